// What a backend reports after each change it makes (FileSystem.observe):
// one record per change of a directory's entries, of an object's attributes
// or of a directory's cookie verifier. Directory notifications (RFC 8881
// §10.9, §20.4) are built on these, so they carry what CB_NOTIFY must say —
// the READDIR cookies of the entries involved, the entry before an added one
// and whether it was added at the end — and they are made by the backend, the
// one place every change passes, whoever made it and by whatever path.

import type { FileAttributes, FileHandle } from "./backend.js";

/**
 * Who made a change, opaque to the backend: the mutating method's `origin`
 * argument handed back (the NFS layer passes the requesting client; null or
 * absent: a change nobody in particular made).
 */
export type ChangeOrigin = object;

/** A directory entry as a change record names it. */
export interface ChangedEntry {
  readonly name: string;
  /** Its READDIR cookie. */
  readonly cookie: bigint;
  readonly handle: FileHandle;
  /** Its attributes once the change was done. */
  readonly attrs: FileAttributes;
}

/** Where an added entry sits in its directory's READDIR order. */
export interface EntryPlace {
  /** The live entry just before it in cookie order (name and cookie), or null if it is first. */
  readonly previous: { readonly name: string; readonly cookie: bigint } | null;
  /** True when no entry follows it. */
  readonly last: boolean;
}

export type FsChange = { readonly origin: ChangeOrigin | null } & (
  | {
      /** A new name in `dir`: CREATE, OPEN's create, LINK, mkdir, symlink, mknod. */
      readonly kind: "added";
      readonly dir: FileHandle;
      readonly entry: ChangedEntry;
      readonly place: EntryPlace;
    }
  | {
      /** A name gone from `dir` (REMOVE). The object's attributes, if it still exists, are in an "attributes" record. */
      readonly kind: "removed";
      readonly dir: FileHandle;
      readonly entry: Omit<ChangedEntry, "attrs">;
    }
  | {
      /**
       * A name moved, within one directory or between two (RENAME). `from`
       * is gone from `fromDir`; `to` is new in `toDir`, replacing `replaced`
       * if the rename went over an existing entry.
       */
      readonly kind: "renamed";
      readonly fromDir: FileHandle;
      readonly from: Omit<ChangedEntry, "attrs">;
      readonly toDir: FileHandle;
      readonly to: ChangedEntry;
      readonly place: EntryPlace;
      readonly replaced: Omit<ChangedEntry, "attrs"> | null;
    }
  | {
      /**
       * An object's attributes changed (SETATTR, WRITE, a change of a
       * directory's entries, a link count). `names` are the entries naming it
       * (directory, name, cookie) — for a directory, its one name in its parent.
       */
      readonly kind: "attributes";
      readonly handle: FileHandle;
      readonly before: FileAttributes;
      readonly after: FileAttributes;
      readonly names: readonly {
        readonly dir: FileHandle;
        readonly name: string;
        readonly cookie: bigint;
      }[];
    }
  | {
      /** A directory's cookie verifier changed: its cookies are no longer valid. */
      readonly kind: "verifier";
      readonly dir: FileHandle;
      readonly before: Uint8Array;
      readonly after: Uint8Array;
    }
);

export type ChangeListener = (change: FsChange) => void;

/** A backend's set of listeners: `emit` builds the record only when someone listens. */
export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();

  get active(): boolean {
    return this.listeners.size > 0;
  }

  observe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: FsChange): void {
    for (const l of this.listeners) l(change);
  }
}
