// The server's namespace: several exports joined by a read-only
// pseudo-filesystem (RFC 8881 §7: a single-server namespace, §7.4–7.5
// pseudo-filesystem), presented to the NFS layer as one FileSystem that
// routes every call by the handle it is given.
//
// Design:
// - Each export is a backend FileSystem (memory, or a SQLite store) mounted
//   at a path ("/a/b") of the pseudo-filesystem. The export's root is the
//   backend's export directory (its root's child named `rootName`, "export"
//   by default — the layout every backend already makes), so a data directory
//   keeps its layout whether it is served alone or among others.
// - The pseudo-filesystem is synthetic: the root (PUTROOTFH) and one
//   directory per proper prefix of an export path; an export's path names the
//   directory it is mounted on, and LOOKUP of that name yields the export's
//   root. Nothing in it can be changed (NFS4ERR_ROFS). Its fileids and handles
//   derive from the paths, so they are the same after a restart.
// - Handles: a format byte, then for the pseudo-filesystem the directory's
//   fileid (8 bytes), for an export its 32-bit export id followed by the
//   backend's own handle. Export ids come from the configuration (explicit,
//   or a hash of the path), so a handle survives a restart as long as its
//   export does; a handle of an export that is gone, or of a pseudo directory
//   no longer in the tree, is NFS4ERR_STALE, and a changed backend behind an
//   unchanged id rejects the backend part (store id, generation) as STALE:
//   never another object. One exception: the lone export of a server
//   configured without `exports` (ExportDefinition.bareHandles) hands out its
//   backend's handles as they are, so the handles a server issued before
//   exports existed (and a data directory's handles cached by clients) stay
//   valid; its backend's handles never begin with the two format bytes
//   (memory handles begin with a fileid's high byte, store handles with 1),
//   and a configuration with `exports` has no bare export, so such a handle is
//   then NFS4ERR_BADHANDLE, never another export's object.
// - fsid: {0, 0} for the pseudo-filesystem, {export id, 0} for an export, so
//   a client sees every export as its own filesystem (§5.8.1.9) and LINK /
//   RENAME across exports are NFS4ERR_XDEV. An export's root reports as
//   mounted_on_fileid the fileid of the pseudo directory it is mounted on
//   (§5.8.2.19), and LOOKUPP from it goes there (§18.14).
// - Exports do not nest: an export's path may not lie inside another's (the
//   configuration refuses it), so a mount point is always a pseudo
//   directory and no backend directory ever hides another export's root
//   (what nfsd's crossmnt/nohide and Ganesha's junctions inside an export do).
// - The access rules (client lists, read-only, squash, flavors) are data
//   here (ExportPolicy); the NFS layer applies them per request
//   (src/nfs/export-access.ts). The namespace itself never filters: it is
//   what every client could see.

import { FH4_PERSISTENT, nfs_ftype4, nfsstat4 } from "../../generated/nfs4/index.js";
import {
  FIRST_COOKIE,
  FsError,
  type ChangeInfo,
  type ChangeListener,
  type ChangeOrigin,
  type CommitResult,
  type CreateAttributes,
  type CreateHow,
  type CreateResult,
  type DeviceNumber,
  type DirEntry,
  type FileAttributes,
  type FileHandle,
  type FileSystem,
  type FsCapabilities,
  type FsChange,
  type FsId,
  type FsStats,
  type FsTime,
  type Located,
  type ReadResult,
  type ReaddirLimits,
  type ReaddirResult,
  type RenameResult,
  type SetAttributes,
  type SpecialType,
  type WriteResult,
  type XattrListResult,
  type XattrSetHow,
} from "../fs/backend.js";
import { now } from "../fs/clock.js";
import { allowsClient, DEFAULT_EXPORT_RULES, type ExportRules } from "./rules.js";
import type { AddressBytes } from "./address.js";
import type { ExportPolicy } from "./policy.js";

/** One export as the namespace mounts it. */
export interface ExportDefinition {
  /** Where it appears in the pseudo-filesystem: "/a/b" (normalized, not "/"). */
  readonly path: string;
  /** Stable id carried in every handle of the export (1 … 2^32-1); see exportIdOf(). */
  readonly id: number;
  readonly fs: FileSystem;
  /** The name of the backend root's child that is the export's root. Default "export". */
  readonly rootName?: string;
  readonly rules: ExportRules;
  /** Handles without the export prefix (at most one export; see the module comment). */
  readonly bareHandles?: boolean;
}

/** fsid of the pseudo-filesystem (Linux nfsd's fsid=0 root reports the same). */
export const PSEUDO_FSID: FsId = { major: 0n, minor: 0n };

/**
 * An export root's attributes: the backend's `attrs` with the export's fsid
 * and the mount point's fileid (fattr4_mounted_on_fileid, RFC 8881
 * §5.8.2.19). Written out field by field, not as `{ ...attrs, fsid,
 * mountedOnFileid }`: under a GETATTR load of an export's root the spread's
 * objects were promoted out of V8's young generation, 3.7% of all allocation
 * (`npm run bench:gc`); this literal's are not. A required field added to
 * FileAttributes fails to compile here.
 */
function rootAttrs(attrs: FileAttributes, fsid: FsId, mountedOnFileid: bigint): FileAttributes {
  return {
    type: attrs.type,
    mode: attrs.mode,
    nlink: attrs.nlink,
    uid: attrs.uid,
    gid: attrs.gid,
    size: attrs.size,
    spaceUsed: attrs.spaceUsed,
    fileid: attrs.fileid,
    atime: attrs.atime,
    mtime: attrs.mtime,
    ctime: attrs.ctime,
    birthtime: attrs.birthtime,
    change: attrs.change,
    rdev: attrs.rdev,
    fsid,
    mountedOnFileid,
  };
}

const PSEUDO_FORMAT = 0xd0;
const EXPORT_FORMAT = 0xd1;
const PSEUDO_HANDLE_BYTES = 9;
const EXPORT_PREFIX_BYTES = 5;

/** FNV-1a, 64 bits: stable ids from paths (no cryptographic property needed). */
function fnv64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/** The export id of an export without an explicit one: a 32-bit hash of its path, never 0. */
export function exportIdOf(path: string): number {
  const h = Number(fnv64(`export:${path}`) & 0xffffffffn);
  return h === 0 ? 1 : h;
}

/** The components of a normalized export path ("/a/b" → ["a", "b"]). */
export function pathComponents(path: string): string[] {
  return path.split("/").filter((c) => c !== "");
}

/** A directory of the pseudo-filesystem. */
interface PseudoDir {
  readonly path: string;
  readonly fileid: bigint;
  readonly handle: FileHandle;
  readonly parent: PseudoDir | null;
  /** Sub-directories and mount points, by name, in name order once built. */
  readonly children: Map<string, PseudoDir>;
  /** The export mounted here, if any (then it has no children). */
  mounted: MountedExport | null;
  /** The exports at or beneath it. */
  readonly exports: MountedExport[];
}

interface MountedExport {
  /** Replaced whole when a reload changes the export's rules (replaceRules). */
  def: ExportDefinition;
  /** def.fs, or what wrapBackends() put around it: every call to the backend goes through it. */
  fs: FileSystem;
  readonly prefix: Uint8Array;
  readonly fsid: FsId;
  /** The pseudo directory it is mounted on (the leaf named by its path). */
  readonly mountPoint: PseudoDir;
  /** The backend handle of the export's root, resolved on first use. */
  root: Promise<FileHandle> | null;
  /** The same handle once resolved: asked of every directory's attributes, without a wait. */
  rootHandle: FileHandle | null;
}

const PSEUDO_STATS: FsStats = {
  spaceTotal: 0n,
  spaceFree: 0n,
  spaceAvail: 0n,
  filesTotal: 0n,
  filesFree: 0n,
  filesAvail: 0n,
};

const PSEUDO_MODE = 0o555;

function fail(status: ConstructorParameters<typeof FsError>[0], why?: string): never {
  throw new FsError(status, why);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Rules of the pseudo-filesystem: read-only, open to all, the flavors of all exports. */
function pseudoRulesOf(defs: readonly ExportDefinition[]): ExportRules {
  const flavors: number[] = [];
  for (const d of defs) for (const f of d.rules.flavors) if (!flavors.includes(f)) flavors.push(f);
  return { ...DEFAULT_EXPORT_RULES, readOnly: true, flavors };
}

export class Namespace implements FileSystem, ExportPolicy {
  readonly capabilities: FsCapabilities;
  /** Rules of the pseudo-filesystem: read-only, open to all, the flavors of all exports. */
  pseudoRules: ExportRules;
  private readonly root_: PseudoDir;
  private readonly pseudoById = new Map<bigint, PseudoDir>();
  private readonly byId = new Map<number, MountedExport>();
  /** The export whose handles carry no prefix, if any. */
  private bare: MountedExport | null = null;
  /** In configuration order; a reload adds at the end (addExport) and removes (removeExport). */
  private readonly mounted: MountedExport[] = [];
  private readonly pseudoCaps: FsCapabilities;
  private readonly bootTime: FsTime;
  /**
   * The pseudo-filesystem's change attribute: the boot time, so a restart
   * never repeats one; moved on when a reload adds or removes an export, so
   * clients re-read the pseudo directories they cache.
   */
  private pseudoChange: bigint;
  /** What wrapBackends() wraps each backend in, for exports mounted later too. */
  private wrapper: ((def: ExportDefinition) => FileSystem) | null = null;
  /** observe()'s listeners, each with its subscription to every mounted export. */
  private readonly observers = new Set<{
    readonly listener: ChangeListener;
    readonly stops: Map<MountedExport, () => void>;
  }>();
  /** The paths of export ids ever mounted: a handle keeps its export's id, so an id never names another path. */
  private readonly idPaths = new Map<number, string>();

  /** Throws Error when paths or ids collide (the configuration checks come first: config/exports.ts). */
  constructor(defs: readonly ExportDefinition[]) {
    if (defs.length === 0) throw new Error("a namespace needs at least one export");
    this.bootTime = now();
    this.pseudoChange = this.bootTime.seconds * 1_000_000_000n + BigInt(this.bootTime.nseconds);
    this.root_ = this.pseudoDir("/", null);
    for (const def of defs) {
      if (def.bareHandles === true && defs.length > 1)
        throw new Error("only a lone export can have bare handles");
      this.mount(def);
    }
    const first = defs[0]!.fs.capabilities;
    // What a client asks of the namespace as a whole (directory notifications,
    // delegations): the first export's; per object, capabilitiesOf().
    this.capabilities = first;
    this.pseudoCaps = {
      ...first,
      linkSupport: false,
      symlinkSupport: false,
      fhExpireType: FH4_PERSISTENT,
      xattrs: null,
    };
    this.pseudoRules = pseudoRulesOf(defs);
  }

  /**
   * Gives exports new access rules (a configuration reload): the next request
   * on each is checked against them. `rules` maps export paths to rules; a
   * path that is not an export is an Error and nothing changes.
   */
  replaceRules(rules: ReadonlyMap<string, ExportRules>): void {
    for (const path of rules.keys())
      if (!this.mounted.some((m) => m.def.path === path))
        throw new Error(`no export ${path} to give new rules to`);
    for (const m of this.mounted) {
      const r = rules.get(m.def.path);
      if (r !== undefined) m.def = { ...m.def, rules: r };
    }
    this.pseudoRules = pseudoRulesOf(this.mounted.map((m) => m.def));
  }

  /** Mounts `def` on its path, making the pseudo directories above it; throws Error on a collision. */
  private mount(def: ExportDefinition): MountedExport {
    if (this.byId.has(def.id) || def.id < 1 || def.id > 0xffffffff)
      throw new Error(`export ${def.path}: id ${def.id} is not a unique 32-bit id`);
    const conflict = this.idConflict(def);
    if (conflict !== null) throw new Error(conflict);
    const names = pathComponents(def.path);
    if (names.length === 0) throw new Error("an export cannot be mounted on the pseudo root");
    // Check the whole path before making any directory, so a refusal changes nothing.
    let at: PseudoDir | undefined = this.root_;
    for (const name of names) {
      if (at === undefined) break;
      if (at.mounted !== null) throw new Error(`export ${def.path} is inside ${at.path}`);
      at = at.children.get(name);
    }
    if (at !== undefined && (at.mounted !== null || at.children.size > 0))
      throw new Error(`export ${def.path} overlaps another export`);
    if (def.bareHandles === true && this.mounted.length > 0)
      throw new Error("only a lone export can have bare handles");
    let dir = this.root_;
    for (const name of names) {
      let next = dir.children.get(name);
      if (next === undefined) {
        next = this.pseudoDir(`${dir.path === "/" ? "" : dir.path}/${name}`, dir);
        dir.children.set(name, next);
      }
      dir = next;
    }
    const prefix = new Uint8Array(def.bareHandles === true ? 0 : EXPORT_PREFIX_BYTES);
    if (prefix.length > 0) {
      prefix[0] = EXPORT_FORMAT;
      new DataView(prefix.buffer).setUint32(1, def.id);
    }
    const m: MountedExport = {
      def,
      prefix,
      fs: this.wrapper?.(def) ?? def.fs,
      fsid: { major: BigInt(def.id), minor: 0n },
      mountPoint: dir,
      root: null,
      rootHandle: null,
    };
    dir.mounted = m;
    if (def.bareHandles === true) this.bare = m;
    for (let d: PseudoDir | null = dir; d !== null; d = d.parent) d.exports.push(m);
    this.byId.set(def.id, m);
    this.idPaths.set(def.id, def.path);
    this.mounted.push(m);
    for (const o of this.observers) o.stops.set(m, this.subscribe(m, o.listener));
    return m;
  }

  /**
   * Adds an export (a configuration reload): it appears in the pseudo-
   * filesystem at once, and the pseudo directories' change attribute moves so
   * clients re-read them. Throws Error (changing nothing) on a collision.
   */
  addExport(def: ExportDefinition): void {
    if (this.bare !== null) throw new Error("a lone export with bare handles takes no others");
    this.mount(def);
    this.pseudoRules = pseudoRulesOf(this.mounted.map((m) => m.def));
    this.pseudoChanged();
  }

  /**
   * Removes the export at `path` (a configuration reload): its handles are
   * NFS4ERR_STALE from now on, and pseudo directories left empty go with it.
   * Returns its definition (the caller closes its store). Throws Error for an
   * unknown path or a lone export with bare handles. Removing the last export
   * leaves an empty pseudo-filesystem: a reload mounts the new ones in the
   * same turn of the event loop, so no request sees it.
   */
  removeExport(path: string): ExportDefinition {
    const i = this.mounted.findIndex((m) => m.def.path === path);
    const m = this.mounted[i];
    if (m === undefined) throw new Error(`no export ${path}`);
    if (m === this.bare) throw new Error(`export ${path} is a lone export with bare handles`);
    this.mounted.splice(i, 1);
    this.byId.delete(m.def.id);
    for (const o of this.observers) {
      o.stops.get(m)?.();
      o.stops.delete(m);
    }
    m.mountPoint.mounted = null;
    for (let d: PseudoDir | null = m.mountPoint; d !== null; d = d.parent) {
      const at = d.exports.indexOf(m);
      if (at >= 0) d.exports.splice(at, 1);
    }
    // Prune the directories that led only to it.
    for (let d = m.mountPoint; d.parent !== null && d.children.size === 0 && d.mounted === null;) {
      const parent: PseudoDir = d.parent;
      parent.children.delete(d.path.slice(d.path.lastIndexOf("/") + 1));
      this.pseudoById.delete(d.fileid);
      d = parent;
    }
    this.pseudoRules = pseudoRulesOf(this.mounted.map((x) => x.def));
    this.pseudoChanged();
    return m.def;
  }

  /** Why `def` could not be mounted for its id alone (another path had it), or null. */
  idConflict(def: Pick<ExportDefinition, "path" | "id">): string | null {
    const earlier = this.idPaths.get(def.id);
    if (earlier !== undefined && earlier !== def.path)
      return `export ${def.path}: id ${def.id} was ${earlier}'s, whose handles clients may still hold: give it another id`;
    return null;
  }

  private pseudoChanged(): void {
    const t = now();
    const ns = t.seconds * 1_000_000_000n + BigInt(t.nseconds);
    this.pseudoChange = ns > this.pseudoChange ? ns : this.pseudoChange + 1n;
  }

  private subscribe(e: MountedExport, listener: ChangeListener): () => void {
    return e.fs.observe((c) => listener(this.translate(e, c)));
  }

  private pseudoDir(path: string, parent: PseudoDir | null): PseudoDir {
    const fileid = fnv64(`pseudo:${path}`) & 0x7fffffffffffffffn;
    if (this.pseudoById.has(fileid)) throw new Error(`pseudo path ${path}: fileid collision`);
    const handle = new Uint8Array(PSEUDO_HANDLE_BYTES);
    handle[0] = PSEUDO_FORMAT;
    new DataView(handle.buffer).setBigUint64(1, fileid);
    const dir: PseudoDir = {
      path,
      fileid,
      handle,
      parent,
      children: new Map(),
      mounted: null,
      exports: [],
    };
    this.pseudoById.set(fileid, dir);
    return dir;
  }

  // ---- routing ----

  /** The pseudo directory or export a handle names: BADHANDLE for foreign bytes, STALE for what is gone. */
  private route(
    handle: FileHandle,
  ):
    | { readonly pseudo: PseudoDir }
    | { readonly pseudo: null; readonly e: MountedExport; readonly inner: FileHandle } {
    if (handle.length === PSEUDO_HANDLE_BYTES && handle[0] === PSEUDO_FORMAT) {
      const id = new DataView(handle.buffer, handle.byteOffset, handle.length).getBigUint64(1);
      const dir = this.pseudoById.get(id);
      // A directory that a changed configuration no longer has, or a mount point (never handed out).
      if (dir === undefined || dir.mounted !== null)
        fail(nfsstat4.NFS4ERR_STALE, "pseudo directory gone");
      return { pseudo: dir };
    }
    if (handle.length > EXPORT_PREFIX_BYTES && handle[0] === EXPORT_FORMAT) {
      const id = new DataView(handle.buffer, handle.byteOffset, handle.length).getUint32(1);
      const e = this.byId.get(id) ?? fail(nfsstat4.NFS4ERR_STALE, "export gone");
      return { pseudo: null, e, inner: handle.subarray(EXPORT_PREFIX_BYTES) };
    }
    if (this.bare !== null) return { pseudo: null, e: this.bare, inner: handle };
    fail(nfsstat4.NFS4ERR_BADHANDLE);
  }

  /** The export holding `handle`; NFS4ERR_ROFS for the pseudo-filesystem (used by every modification). */
  private writable(handle: FileHandle): { e: MountedExport; inner: FileHandle } {
    const r = this.route(handle);
    if (r.pseudo !== null) fail(nfsstat4.NFS4ERR_ROFS, "the pseudo-filesystem is read-only");
    return r;
  }

  private wrap(e: MountedExport, inner: FileHandle): FileHandle {
    if (e.prefix.length === 0) {
      // A bare handle must not look like one of the namespace's own.
      if (inner[0] === PSEUDO_FORMAT || inner[0] === EXPORT_FORMAT)
        fail(nfsstat4.NFS4ERR_SERVERFAULT, "a bare export's handle begins with a format byte");
      return inner;
    }
    const h = new Uint8Array(e.prefix.length + inner.length);
    h.set(e.prefix, 0);
    h.set(inner, e.prefix.length);
    return h;
  }

  private exportRoot(e: MountedExport): Promise<FileHandle> {
    e.root ??= (async () => {
      const fs = e.fs;
      const handle = (await fs.lookup(await fs.root(), e.def.rootName ?? "export")).handle;
      e.rootHandle = handle;
      return handle;
    })();
    return e.root;
  }

  /** The backend's attributes as the namespace reports them: the export's fsid; the root's mount point. */
  private async attrsOf(
    e: MountedExport,
    inner: FileHandle,
    attrs: FileAttributes,
  ): Promise<FileAttributes> {
    const isRoot =
      attrs.type === nfs_ftype4.NF4DIR &&
      sameBytes(inner, e.rootHandle ?? (await this.exportRoot(e)));
    if (isRoot) return rootAttrs(attrs, e.fsid, e.mountPoint.fileid);
    return this.withFsid(e, attrs);
  }

  /** `attrs` with the export's fsid (the same object when the backend already reports it). */
  private withFsid(e: MountedExport, attrs: FileAttributes): FileAttributes {
    const f = attrs.fsid;
    return f.major === e.fsid.major && f.minor === e.fsid.minor
      ? attrs
      : { ...attrs, fsid: e.fsid };
  }

  private located(e: MountedExport, l: Located): Promise<Located> {
    return this.attrsOf(e, l.handle, l.attrs).then((attrs) => ({
      handle: this.wrap(e, l.handle),
      attrs,
    }));
  }

  private async created(e: MountedExport, r: CreateResult): Promise<CreateResult> {
    return { ...r, handle: this.wrap(e, r.handle), attrs: this.withFsid(e, r.attrs) };
  }

  private pseudoAttrs(dir: PseudoDir): FileAttributes {
    const t = this.bootTime;
    return {
      type: nfs_ftype4.NF4DIR,
      mode: PSEUDO_MODE,
      nlink: 2 + dir.children.size,
      uid: 0,
      gid: 0,
      size: 4096n,
      spaceUsed: 4096n,
      fileid: dir.fileid,
      atime: t,
      mtime: t,
      ctime: t,
      birthtime: t,
      change: this.pseudoChange,
      rdev: { major: 0, minor: 0 },
      fsid: PSEUDO_FSID,
    };
  }

  /** A child of a pseudo directory as LOOKUP/READDIR yield it: a directory, or an export's root. */
  private async pseudoChild(child: PseudoDir): Promise<Located> {
    const m = child.mounted;
    if (m === null) return { handle: child.handle, attrs: this.pseudoAttrs(child) };
    const inner = await this.exportRoot(m);
    return this.located(m, { handle: inner, attrs: await m.fs.getattr(inner) });
  }

  // ---- ExportPolicy ----

  rulesOf(handle: FileHandle): ExportRules {
    try {
      const r = this.route(handle);
      return r.pseudo !== null ? this.pseudoRules : r.e.def.rules;
    } catch {
      // A handle that does not route fails in the operation itself; no rule applies.
      return this.pseudoRules;
    }
  }

  capabilitiesOf(handle: FileHandle): FsCapabilities {
    try {
      const r = this.route(handle);
      return r.pseudo !== null ? this.pseudoCaps : r.e.fs.capabilities;
    } catch {
      return this.capabilities;
    }
  }

  reachable(handle: FileHandle, address: AddressBytes | null): boolean {
    let r;
    try {
      r = this.route(handle);
    } catch {
      return true; // not ours to judge: the operation answers BADHANDLE/STALE
    }
    if (r.pseudo === null) return allowsClient(r.e.def.rules, address);
    if (r.pseudo === this.root_) return true;
    return r.pseudo.exports.some((m) => allowsClient(m.def.rules, address));
  }

  entriesShareExport(dir: FileHandle): boolean {
    try {
      return this.route(dir).pseudo === null;
    } catch {
      return false; // the operation answers BADHANDLE/STALE
    }
  }

  /**
   * Puts `wrap(def.fs)` between the namespace and each export's backend (the
   * metrics endpoint times store calls this way). Changes registered with
   * observe() before keep coming: a wrapper passes observe() through.
   */
  wrapBackends(wrap: (def: ExportDefinition) => FileSystem): void {
    this.wrapper = wrap;
    for (const m of this.mounted) m.fs = wrap(m.def);
  }

  /** The exports, in configuration order (for logs and tests). */
  get exports(): readonly ExportDefinition[] {
    return this.mounted.map((m) => m.def);
  }

  // ---- FileSystem ----

  async root(): Promise<FileHandle> {
    return this.root_.handle;
  }

  async getattr(handle: FileHandle): Promise<FileAttributes> {
    const r = this.route(handle);
    if (r.pseudo !== null) return this.pseudoAttrs(r.pseudo);
    return this.attrsOf(r.e, r.inner, await r.e.fs.getattr(r.inner));
  }

  async lookup(dir: FileHandle, name: string): Promise<Located> {
    const r = this.route(dir);
    if (r.pseudo === null) return this.located(r.e, await r.e.fs.lookup(r.inner, name));
    const child = r.pseudo.children.get(name) ?? fail(nfsstat4.NFS4ERR_NOENT);
    return this.pseudoChild(child);
  }

  async lookupParent(dir: FileHandle): Promise<Located> {
    const r = this.route(dir);
    if (r.pseudo !== null) {
      const parent = r.pseudo.parent ?? fail(nfsstat4.NFS4ERR_NOENT, "the root has no parent");
      return { handle: parent.handle, attrs: this.pseudoAttrs(parent) };
    }
    const { e, inner } = r;
    if (sameBytes(inner, await this.exportRoot(e))) {
      // Out of the export, into the pseudo directory holding its mount point (§18.14).
      const parent = e.mountPoint.parent!;
      return { handle: parent.handle, attrs: this.pseudoAttrs(parent) };
    }
    return this.located(e, await e.fs.lookupParent(inner));
  }

  async readdir(
    dir: FileHandle,
    cookie: bigint,
    verifier: Uint8Array,
    limits: ReaddirLimits,
  ): Promise<ReaddirResult> {
    const r = this.route(dir);
    if (r.pseudo === null) {
      const { e } = r;
      const page = await e.fs.readdir(r.inner, cookie, verifier, limits);
      const entries = page.entries.map((entry): DirEntry => {
        if (!entry.ok) return entry;
        const handle = this.wrap(e, entry.handle);
        const attrs = this.withFsid(e, entry.attrs);
        return handle === entry.handle && attrs === entry.attrs
          ? entry
          : { ...entry, handle, attrs };
      });
      return { ...page, entries };
    }
    // Children in name order; cookie i + FIRST_COOKIE; the verifier names the set of children.
    const names = [...r.pseudo.children.keys()].sort();
    const ours = new Uint8Array(8);
    new DataView(ours.buffer).setBigUint64(0, fnv64(names.join("/")));
    if (cookie !== 0n) {
      if (!sameBytes(verifier, ours)) fail(nfsstat4.NFS4ERR_NOT_SAME);
      if (cookie < FIRST_COOKIE || cookie >= FIRST_COOKIE + BigInt(names.length))
        fail(nfsstat4.NFS4ERR_BAD_COOKIE);
    }
    const start = cookie === 0n ? 0 : Number(cookie - FIRST_COOKIE) + 1;
    const end = Math.min(names.length, start + Math.max(1, limits.maxEntries));
    const entries: DirEntry[] = [];
    for (let i = start; i < end; i++) {
      const name = names[i]!;
      const c = FIRST_COOKIE + BigInt(i);
      try {
        const l = await this.pseudoChild(r.pseudo.children.get(name)!);
        entries.push({ name, cookie: c, ok: true, handle: l.handle, attrs: l.attrs });
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        entries.push({ name, cookie: c, ok: false, error: err.status });
      }
    }
    return { entries, eof: end === names.length, verifier: ours };
  }

  async statfs(handle: FileHandle): Promise<FsStats> {
    const r = this.route(handle);
    return r.pseudo !== null ? PSEUDO_STATS : r.e.fs.statfs(r.inner);
  }

  async read(handle: FileHandle, offset: bigint, count: number): Promise<ReadResult> {
    const r = this.route(handle);
    if (r.pseudo !== null) fail(nfsstat4.NFS4ERR_ISDIR);
    return r.e.fs.read(r.inner, offset, count);
  }

  async write(
    handle: FileHandle,
    offset: bigint,
    data: Uint8Array,
    stable: Parameters<FileSystem["write"]>[3],
    origin?: ChangeOrigin | null,
  ): Promise<WriteResult> {
    const { e, inner } = this.writable(handle);
    return e.fs.write(inner, offset, data, stable, origin);
  }

  async commit(handle: FileHandle, offset: bigint, count: number): Promise<CommitResult> {
    const r = this.route(handle);
    if (r.pseudo !== null) fail(nfsstat4.NFS4ERR_ISDIR);
    return r.e.fs.commit(r.inner, offset, count);
  }

  async create(
    dir: FileHandle,
    name: string,
    how: CreateHow,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult> {
    const { e, inner } = this.writable(dir);
    return this.created(e, await e.fs.create(inner, name, how, attrs, origin));
  }

  async mkdir(
    dir: FileHandle,
    name: string,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult> {
    const { e, inner } = this.writable(dir);
    return this.created(e, await e.fs.mkdir(inner, name, attrs, origin));
  }

  async symlink(
    dir: FileHandle,
    name: string,
    target: Uint8Array,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult> {
    const { e, inner } = this.writable(dir);
    return this.created(e, await e.fs.symlink(inner, name, target, attrs, origin));
  }

  async mknod(
    dir: FileHandle,
    name: string,
    type: SpecialType,
    rdev: DeviceNumber,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult> {
    const { e, inner } = this.writable(dir);
    return this.created(e, await e.fs.mknod(inner, name, type, rdev, attrs, origin));
  }

  async readlink(handle: FileHandle): Promise<Uint8Array> {
    const r = this.route(handle);
    if (r.pseudo !== null) fail(nfsstat4.NFS4ERR_INVAL, "not a symbolic link");
    return r.e.fs.readlink(r.inner);
  }

  async remove(dir: FileHandle, name: string, origin?: ChangeOrigin | null): Promise<ChangeInfo> {
    const { e, inner } = this.writable(dir);
    return e.fs.remove(inner, name, origin);
  }

  async rename(
    fromDir: FileHandle,
    fromName: string,
    toDir: FileHandle,
    toName: string,
    origin?: ChangeOrigin | null,
  ): Promise<RenameResult> {
    const from = this.writable(fromDir);
    const to = this.writable(toDir);
    if (from.e !== to.e) fail(nfsstat4.NFS4ERR_XDEV);
    return from.e.fs.rename(from.inner, fromName, to.inner, toName, origin);
  }

  async link(
    handle: FileHandle,
    dir: FileHandle,
    name: string,
    origin?: ChangeOrigin | null,
  ): Promise<ChangeInfo> {
    const target = this.writable(dir);
    const source = this.route(handle);
    if (source.pseudo !== null) fail(nfsstat4.NFS4ERR_ISDIR);
    if (source.e !== target.e) fail(nfsstat4.NFS4ERR_XDEV);
    return target.e.fs.link(source.inner, target.inner, name, origin);
  }

  async setattr(
    handle: FileHandle,
    attrs: SetAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<FileAttributes> {
    const { e, inner } = this.writable(handle);
    return this.attrsOf(e, inner, await e.fs.setattr(inner, attrs, origin));
  }

  async getxattr(handle: FileHandle, name: string): Promise<Uint8Array> {
    const r = this.route(handle);
    if (r.pseudo !== null) fail(nfsstat4.NFS4ERR_NOTSUPP);
    return r.e.fs.getxattr(r.inner, name);
  }

  async setxattr(
    handle: FileHandle,
    name: string,
    value: Uint8Array,
    how: XattrSetHow,
    origin?: ChangeOrigin | null,
  ): Promise<ChangeInfo> {
    const { e, inner } = this.writable(handle);
    return e.fs.setxattr(inner, name, value, how, origin);
  }

  async listxattrs(
    handle: FileHandle,
    cookie: bigint,
    maxEntries: number,
  ): Promise<XattrListResult> {
    const r = this.route(handle);
    if (r.pseudo !== null) fail(nfsstat4.NFS4ERR_NOTSUPP);
    return r.e.fs.listxattrs(r.inner, cookie, maxEntries);
  }

  async removexattr(
    handle: FileHandle,
    name: string,
    origin?: ChangeOrigin | null,
  ): Promise<ChangeInfo> {
    const { e, inner } = this.writable(handle);
    return e.fs.removexattr(inner, name, origin);
  }

  observe(listener: ChangeListener): () => void {
    const o = { listener, stops: new Map<MountedExport, () => void>() };
    for (const e of this.mounted) o.stops.set(e, this.subscribe(e, listener));
    this.observers.add(o);
    return () => {
      this.observers.delete(o);
      for (const stop of o.stops.values()) stop();
    };
  }

  /** A backend's change record with the namespace's handles and fsids. */
  private translate(e: MountedExport, c: FsChange): FsChange {
    const h = (x: FileHandle): FileHandle => this.wrap(e, x);
    const a = (x: FileAttributes): FileAttributes => this.withFsid(e, x);
    switch (c.kind) {
      case "added":
        return {
          ...c,
          dir: h(c.dir),
          entry: { ...c.entry, handle: h(c.entry.handle), attrs: a(c.entry.attrs) },
        };
      case "removed":
        return { ...c, dir: h(c.dir), entry: { ...c.entry, handle: h(c.entry.handle) } };
      case "renamed":
        return {
          ...c,
          fromDir: h(c.fromDir),
          from: { ...c.from, handle: h(c.from.handle) },
          toDir: h(c.toDir),
          to: { ...c.to, handle: h(c.to.handle), attrs: a(c.to.attrs) },
          replaced: c.replaced === null ? null : { ...c.replaced, handle: h(c.replaced.handle) },
        };
      case "attributes":
        return {
          ...c,
          handle: h(c.handle),
          before: a(c.before),
          after: a(c.after),
          names: c.names.map((n) => ({ ...n, dir: h(n.dir) })),
        };
      case "verifier":
        return { ...c, dir: h(c.dir) };
    }
  }

  async pin(handle: FileHandle): Promise<void> {
    const r = this.route(handle);
    if (r.pseudo === null) await r.e.fs.pin(r.inner);
  }

  async unpin(handle: FileHandle): Promise<void> {
    let r;
    try {
      r = this.route(handle);
    } catch {
      return; // unpin never fails (FileSystem contract)
    }
    if (r.pseudo === null) await r.e.fs.unpin(r.inner);
  }
}
