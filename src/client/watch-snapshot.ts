// What a directory watch believes the directory holds (name → READDIR cookie
// and fileid), and the events that changes to it make. Pure: no I/O, no time.
//
// A notification may describe a change that the READDIR done right after
// GET_DIR_DELEGATION already showed (RFC 8881 §10.9: the listing and the
// notifications overlap by the changes made in between). Such changes are
// recognised by (name, cookie) and not reported again: an add of a name known
// with the same cookie, a remove of a name not known, a rename whose old name
// is gone and whose new name is known.

import type { DirectoryChange } from "./notify.js";
import type { WatchEvent } from "./watch-events.js";
import type { DirectoryEntry } from "./watch-server.js";

/** An add matches a known entry: same cookie, else same fileid, else the name alone. */
function sameEntry(known: DirectoryEntry, cookie: bigint | null, fileid: bigint | null): boolean {
  if (cookie !== null && known.cookie !== null) return cookie === known.cookie;
  if (fileid !== null && known.fileid !== null) return fileid === known.fileid;
  return true;
}

/** Another object under the same name (both fileids known and different). */
const replacedBy = (a: DirectoryEntry, b: DirectoryEntry): boolean =>
  a.fileid !== null && b.fileid !== null && a.fileid !== b.fileid;

export class DirectorySnapshot {
  private readonly byName: Map<string, DirectoryEntry>;

  constructor(entries: readonly DirectoryEntry[]) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  /** The entries, in the order they became known. */
  entries(): DirectoryEntry[] {
    return [...this.byName.values()];
  }

  /** Applies one notified change; its event, or null when the snapshot already showed it. */
  apply(c: DirectoryChange): WatchEvent | null {
    const entries = this.byName;
    switch (c.kind) {
      case "add": {
        const known = entries.get(c.name);
        const fileid = c.attrs?.fileid ?? null;
        if (known !== undefined && c.replaced === null && sameEntry(known, c.cookie, fileid))
          return null;
        if (c.replaced !== null && c.replaced.name !== c.name) entries.delete(c.replaced.name);
        entries.set(c.name, { name: c.name, cookie: c.cookie, fileid });
        return {
          type: "added",
          name: c.name,
          cookie: c.cookie,
          attrs: c.attrs,
          replaced: c.replaced !== null || known !== undefined,
          via: "notification",
        };
      }
      case "remove":
        if (!entries.delete(c.name)) return null;
        return { type: "removed", name: c.name, via: "notification" };
      case "rename": {
        const from = entries.get(c.from);
        const to = entries.get(c.to);
        if (from === undefined && to !== undefined && sameEntry(to, c.toCookie, null)) return null;
        entries.delete(c.from);
        entries.set(c.to, { name: c.to, cookie: c.toCookie, fileid: from?.fileid ?? null });
        return {
          type: "renamed",
          from: c.from,
          to: c.to,
          replaced: c.replaced !== null || to !== undefined,
        };
      }
      case "child-attributes":
        return { type: "attributes", target: "child", name: c.name, attrs: c.attrs };
      case "directory-attributes":
        return { type: "attributes", target: "directory", name: "", attrs: c.attrs };
      case "verifier":
        // Names stay, cookies do not (§10.9.1): forget them until the next listing.
        for (const [name, e] of entries) entries.set(name, { ...e, cookie: null });
        return { type: "verifier" };
    }
  }

  /**
   * What changed from `before` to this listing, as removes then adds ("resync"):
   * names gone, names new, and names now naming another object (by fileid).
   */
  changesSince(before: DirectorySnapshot): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (const [name, old] of before.byName) {
      const now = this.byName.get(name);
      if (now === undefined || replacedBy(old, now))
        out.push({ type: "removed", name, via: "resync" });
    }
    for (const [name, now] of this.byName) {
      const old = before.byName.get(name);
      if (old === undefined || replacedBy(old, now))
        out.push({
          type: "added",
          name,
          cookie: now.cookie,
          attrs: now.fileid === null ? null : { fileid: now.fileid },
          replaced: false,
          via: "resync",
        });
    }
    return out;
  }
}
