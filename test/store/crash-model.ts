// What a client may expect to find after a server crash (RFC 8881 §18.32,
// §18.3): the crash test (crash.test.ts) records here what the server
// acknowledged as stable, and what was sent but not (yet) stable, then checks
// the state read back after a restart against it.
//
// - A FILE_SYNC4/DATA_SYNC4 WRITE reply makes its bytes stable; a COMMIT reply
//   makes every UNSTABLE4 write acknowledged before it stable.
// - An UNSTABLE4 write not yet committed, or any WRITE whose reply never came,
//   is "pending": after the crash each of its bytes holds either its data or
//   what was there before — but a pending write older than the stable data of
//   a byte cannot show through it.
// - A namespace operation (OPEN create, CREATE, REMOVE, RENAME, LINK, SETATTR)
//   whose reply came is done; the one in flight at the crash may or may not be.

/** A WRITE sent to the server, numbered in the order it was sent. */
export interface SentWrite {
  readonly seq: number;
  readonly offset: number;
  readonly data: Uint8Array;
}

/** One regular file's contents as the client knows them. */
export class FileModel {
  /** Stable contents, `size` bytes of it. */
  private bytes: Uint8Array;
  size: number;
  /** For each byte below `size`, the seq of the stable write that set it (-1: none). */
  private setBy: Int32Array;
  /** Writes sent whose data is not stable, oldest first. */
  private pending: SentWrite[] = [];

  constructor(contents: Uint8Array = new Uint8Array(0)) {
    this.bytes = contents.slice();
    this.size = contents.length;
    this.setBy = new Int32Array(contents.length).fill(-1);
  }

  clone(): FileModel {
    const c = new FileModel(this.bytes.subarray(0, this.size));
    c.setBy = this.setBy.slice(0, this.size);
    c.pending = [...this.pending];
    return c;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** A WRITE was sent: until it is stable its bytes may or may not be there. */
  sent(w: SentWrite): void {
    this.pending.push(w);
  }

  /** A FILE_SYNC4 or DATA_SYNC4 reply for `w`. */
  stable(w: SentWrite): void {
    this.pending = this.pending.filter((p) => p !== w);
    this.put(w);
  }

  /** A COMMIT reply: every write sent before it (and answered) is stable. */
  committed(sentBefore: number): void {
    const done = this.pending.filter((p) => p.seq < sentBefore);
    this.pending = this.pending.filter((p) => p.seq >= sentBefore);
    for (const w of done) this.put(w);
  }

  /** A SETATTR size reply (seq: when it was sent). */
  resized(size: number, seq: number): void {
    this.grow(size);
    if (size > this.size) {
      this.bytes.fill(0, this.size, size);
      this.setBy.fill(seq, this.size, size);
    }
    this.size = size;
  }

  /** Why `actual` cannot be this file after a crash, or null when it can. */
  explain(actual: Uint8Array): string | null {
    const sizes = new Set([this.size]);
    for (const p of this.pending) {
      const end = p.offset + p.data.length;
      if (end > this.size) sizes.add(end);
    }
    if (!sizes.has(actual.length))
      return `size ${actual.length}, expected one of ${[...sizes].join(", ")}`;
    for (let i = 0; i < actual.length; i++) {
      const stableValue = i < this.size ? this.bytes[i]! : 0;
      if (actual[i] === stableValue) continue;
      const since = i < this.size ? this.setBy[i]! : -1;
      const later = this.pending.some(
        (p) =>
          p.seq > since &&
          i >= p.offset &&
          i < p.offset + p.data.length &&
          p.data[i - p.offset] === actual[i],
      );
      if (!later) return `byte ${i} is ${actual[i]}, expected ${stableValue} (stable)`;
    }
    return null;
  }

  private put(w: SentWrite): void {
    const end = w.offset + w.data.length;
    this.grow(end);
    if (w.offset > this.size) {
      this.bytes.fill(0, this.size, w.offset);
      this.setBy.fill(w.seq, this.size, w.offset);
    }
    this.bytes.set(w.data, w.offset);
    this.setBy.fill(w.seq, w.offset, end);
    this.size = Math.max(this.size, end);
  }

  private grow(n: number): void {
    if (n <= this.bytes.length) return;
    const bytes = new Uint8Array(Math.max(n, this.bytes.length * 2));
    bytes.set(this.bytes.subarray(0, this.size));
    const setBy = new Int32Array(bytes.length).fill(-1);
    setBy.set(this.setBy.subarray(0, this.size));
    this.bytes = bytes;
    this.setBy = setBy;
  }
}

export type NodeModel =
  { readonly kind: "dir" } | { readonly kind: "file"; readonly file: FileModel };

/** One directory of the test: its names, each an empty directory or a file (links share one). */
export class DirModel {
  readonly names = new Map<string, NodeModel>();

  clone(): DirModel {
    const c = new DirModel();
    const files = new Map<FileModel, FileModel>();
    for (const [name, node] of this.names) {
      if (node.kind === "dir") c.names.set(name, node);
      else {
        const copy = files.get(node.file) ?? node.file.clone();
        files.set(node.file, copy);
        c.names.set(name, { kind: "file", file: copy });
      }
    }
    return c;
  }

  /** Names of each kind, for choosing an operation. */
  namesOf(kind: NodeModel["kind"]): string[] {
    return [...this.names].filter(([, n]) => n.kind === kind).map(([name]) => name);
  }
}

/** A directory entry as read back from the server after a restart. */
export interface ActualEntry {
  readonly name: string;
  readonly kind: "dir" | "file";
  readonly fileid: bigint;
  /** A file's contents (null for a directory). */
  readonly data: Uint8Array | null;
}

/** Why `actual` cannot be the directory `model` after a crash, or null when it can. */
export function explainDir(model: DirModel, actual: readonly ActualEntry[]): string | null {
  const want = [...model.names.keys()].sort();
  const got = actual.map((e) => e.name).sort();
  if (want.join("/") !== got.join("/")) return `names [${got}], expected [${want}]`;
  const fileids = new Map<FileModel, bigint>();
  const owners = new Map<bigint, FileModel>();
  for (const e of actual) {
    const node = model.names.get(e.name)!;
    if (node.kind !== e.kind) return `${e.name} is a ${e.kind}, expected a ${node.kind}`;
    if (node.kind === "dir" || e.data === null) continue;
    // Links: one object behind every name of one file, a distinct one per file.
    const id = fileids.get(node.file);
    if (id !== undefined && id !== e.fileid) return `${e.name}: not the same file as its link`;
    const owner = owners.get(e.fileid);
    if (owner !== undefined && owner !== node.file) return `${e.name}: shares another's fileid`;
    fileids.set(node.file, e.fileid);
    owners.set(e.fileid, node.file);
    const why = node.file.explain(e.data);
    if (why !== null) return `${e.name}: ${why}`;
  }
  return null;
}

/** The model of a directory read back after a restart: everything in it is on disk. */
export function dirFromActual(actual: readonly ActualEntry[]): DirModel {
  const m = new DirModel();
  const files = new Map<bigint, FileModel>();
  for (const e of actual) {
    if (e.kind === "dir" || e.data === null) {
      m.names.set(e.name, { kind: "dir" });
      continue;
    }
    const file = files.get(e.fileid) ?? new FileModel(e.data);
    files.set(e.fileid, file);
    m.names.set(e.name, { kind: "file", file });
  }
  return m;
}
