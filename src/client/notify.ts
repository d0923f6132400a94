// CB_NOTIFY's changes (RFC 8881 §20.4) decoded into plain values. Each notify4
// carries a bitmap of notify_type4 and, for each bit set in ascending order,
// one XDR value: notify_attr4 (bits 0 and 1), notify_remove4 (2), notify_add4
// (3), notify_rename4 (4), notify_verifier4 (5) — §20.4.1. A server may pack
// several changes into one notify4; ours sends one, but both decode here.
// Everything returned is a copy (strings, bigints, fresh byte arrays): the
// callback request is a view into the receive buffer.

import type { notify4, notify_add4, notify_remove4 } from "../../generated/nfs4/index.js";
import {
  decodenotify_add4,
  decodenotify_attr4,
  decodenotify_remove4,
  decodenotify_rename4,
  decodenotify_verifier4,
  notify_type4,
} from "../../generated/nfs4/index.js";
import { XdrError, XdrReader } from "../xdr/index.js";
import type { Attributes } from "./attrs.js";
import { bitsOf, decodeAttributes } from "./attrs.js";

/** An entry a change removed: its name and READDIR cookie. */
export interface RemovedEntry {
  readonly name: string;
  readonly cookie: bigint;
}

export type DirectoryChange =
  | {
      readonly kind: "add";
      readonly name: string;
      /** nad_new_entry_cookie, when the server sent it. */
      readonly cookie: bigint | null;
      /** The new entry's attributes (those of the granted child mask), when sent. */
      readonly attrs: Attributes | null;
      /** nad_old_entry: the entry this add replaced (a rename over an existing name). */
      readonly replaced: RemovedEntry | null;
    }
  | { readonly kind: "remove"; readonly name: string; readonly cookie: bigint }
  | {
      readonly kind: "rename";
      readonly from: string;
      readonly fromCookie: bigint;
      readonly to: string;
      readonly toCookie: bigint | null;
      readonly replaced: RemovedEntry | null;
    }
  | { readonly kind: "child-attributes"; readonly name: string; readonly attrs: Attributes }
  | { readonly kind: "directory-attributes"; readonly attrs: Attributes }
  | { readonly kind: "verifier"; readonly old: Uint8Array; readonly new: Uint8Array };

const utf8 = new TextDecoder();

/** A component4 as text (invalid UTF-8 shows as U+FFFD rather than failing the watch). */
export function nameOf(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

function removed(r: notify_remove4): RemovedEntry {
  return { name: nameOf(r.nrm_old_entry.ne_file), cookie: r.nrm_old_entry_cookie };
}

type AddChange = Extract<DirectoryChange, { kind: "add" }>;

function added(a: notify_add4): AddChange {
  const attrs = a.nad_new_entry.ne_attrs;
  return {
    kind: "add",
    name: nameOf(a.nad_new_entry.ne_file),
    cookie: a.nad_new_entry_cookie[0] ?? null,
    attrs: attrs.attrmask.some((w) => w !== 0) ? decodeAttributes(attrs) : null,
    replaced: a.nad_old_entry[0] === undefined ? null : removed(a.nad_old_entry[0]),
  };
}

/** The changes of one notify4, in bit order. Throws XdrError for values that do not decode. */
function changesOf(n: notify4): DirectoryChange[] {
  const r = new XdrReader(n.notify_vals);
  const out: DirectoryChange[] = [];
  for (const bit of bitsOf(n.notify_mask)) {
    switch (bit) {
      case notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS: {
        const e = decodenotify_attr4(r).na_changed_entry;
        out.push({
          kind: "child-attributes",
          name: nameOf(e.ne_file),
          attrs: decodeAttributes(e.ne_attrs),
        });
        break;
      }
      case notify_type4.NOTIFY4_CHANGE_DIR_ATTRS: {
        const e = decodenotify_attr4(r).na_changed_entry;
        out.push({ kind: "directory-attributes", attrs: decodeAttributes(e.ne_attrs) });
        break;
      }
      case notify_type4.NOTIFY4_REMOVE_ENTRY: {
        const e = removed(decodenotify_remove4(r));
        out.push({ kind: "remove", name: e.name, cookie: e.cookie });
        break;
      }
      case notify_type4.NOTIFY4_ADD_ENTRY:
        out.push(added(decodenotify_add4(r)));
        break;
      case notify_type4.NOTIFY4_RENAME_ENTRY: {
        const v = decodenotify_rename4(r);
        const from = removed(v.nrn_old_entry);
        const to = added(v.nrn_new_entry);
        out.push({
          kind: "rename",
          from: from.name,
          fromCookie: from.cookie,
          to: to.name,
          toCookie: to.cookie,
          replaced: to.replaced,
        });
        break;
      }
      case notify_type4.NOTIFY4_CHANGE_COOKIE_VERIFIER: {
        const v = decodenotify_verifier4(r);
        out.push({
          kind: "verifier",
          old: new Uint8Array(v.nv_old_cookieverf),
          new: new Uint8Array(v.nv_new_cookieverf),
        });
        break;
      }
      default:
        // Its value's size is unknown, so nothing after it can be read either.
        throw new XdrError("discriminant", `notify4: unknown notification type ${bit}`, 0, bit);
    }
  }
  r.assertDone();
  return out;
}

/** The changes of a CB_NOTIFY's cna_changes, in order. Throws XdrError for values that do not decode. */
export function decodeChanges(changes: readonly notify4[]): DirectoryChange[] {
  return changes.flatMap(changesOf);
}
