import { describe, expect, it } from "vitest";
import { nfs_ftype4, nfsstat4 } from "../../generated/nfs4/index.js";
import { authorizeSetattr, inGroup, mayUnlinkFrom, type Caller } from "../../src/fs/permission.js";

const ROOT: Caller = { uid: 0, gid: 0, gids: [] };
const OWNER: Caller = { uid: 1000, gid: 100, gids: [200] };
const OTHER: Caller = { uid: 2000, gid: 300, gids: [] };
const FILE = { type: nfs_ftype4.NF4REG, mode: 0o644, uid: 1000, gid: 100 };
const DIR = { ...FILE, type: nfs_ftype4.NF4DIR, mode: 0o755 };

function status(r: ReturnType<typeof authorizeSetattr>): number {
  return r.ok ? nfsstat4.NFS4_OK : r.status;
}

describe("inGroup", () => {
  it("counts the primary and the supplementary groups", () => {
    expect(inGroup(OWNER, 100)).toBe(true);
    expect(inGroup(OWNER, 200)).toBe(true);
    expect(inGroup(OWNER, 300)).toBe(false);
  });
});

describe("mayUnlinkFrom (sticky bit)", () => {
  const sticky = { mode: 0o1777, uid: 0 };
  it("without the sticky bit anyone with directory rights may unlink", () => {
    expect(mayUnlinkFrom({ mode: 0o777, uid: 0 }, { uid: 5 }, OTHER)).toBe(true);
  });
  it("with it: the entry's owner, the directory's owner, or root", () => {
    expect(mayUnlinkFrom(sticky, { uid: OTHER.uid }, OTHER)).toBe(true);
    expect(mayUnlinkFrom(sticky, { uid: 5 }, OTHER)).toBe(false);
    expect(mayUnlinkFrom({ ...sticky, uid: OTHER.uid }, { uid: 5 }, OTHER)).toBe(true);
    expect(mayUnlinkFrom(sticky, { uid: 5 }, ROOT)).toBe(true);
  });
});

describe("authorizeSetattr", () => {
  it("chown is the superuser's alone; chown to the current owner is no change", () => {
    expect(status(authorizeSetattr(FILE, { uid: 7 }, OWNER))).toBe(nfsstat4.NFS4ERR_PERM);
    expect(status(authorizeSetattr(FILE, { uid: 1000 }, OWNER))).toBe(nfsstat4.NFS4_OK);
    expect(status(authorizeSetattr(FILE, { uid: 7 }, ROOT))).toBe(nfsstat4.NFS4_OK);
  });

  it("chgrp: the owner to one of his groups, the superuser to any", () => {
    expect(status(authorizeSetattr(FILE, { gid: 200 }, OWNER))).toBe(nfsstat4.NFS4_OK);
    expect(status(authorizeSetattr(FILE, { gid: 300 }, OWNER))).toBe(nfsstat4.NFS4ERR_PERM);
    expect(status(authorizeSetattr(FILE, { gid: 300 }, OTHER))).toBe(nfsstat4.NFS4ERR_PERM);
    expect(status(authorizeSetattr(FILE, { gid: 300 }, ROOT))).toBe(nfsstat4.NFS4_OK);
  });

  it("chmod and explicit times: owner or superuser (PERM)", () => {
    const t = { seconds: 1n, nseconds: 0 };
    for (const want of [{ mode: 0o600 }, { mtime: t }, { atime: t }]) {
      expect(status(authorizeSetattr(FILE, want, OWNER))).toBe(nfsstat4.NFS4_OK);
      expect(status(authorizeSetattr(FILE, want, ROOT))).toBe(nfsstat4.NFS4_OK);
      expect(status(authorizeSetattr({ ...FILE, mode: 0o666 }, want, OTHER))).toBe(
        nfsstat4.NFS4ERR_PERM,
      );
    }
  });

  it("times set to now: also anyone who may write (ACCESS otherwise)", () => {
    const now = { mtime: "now", atime: "now" } as const;
    expect(status(authorizeSetattr({ ...FILE, mode: 0o666 }, now, OTHER))).toBe(nfsstat4.NFS4_OK);
    expect(status(authorizeSetattr(FILE, now, OTHER))).toBe(nfsstat4.NFS4ERR_ACCESS);
    expect(status(authorizeSetattr({ ...FILE, mode: 0o444 }, now, OWNER))).toBe(nfsstat4.NFS4_OK);
  });

  it("size: write permission, or ownership (Linux nfsd's owner override)", () => {
    expect(status(authorizeSetattr({ ...FILE, mode: 0o666 }, { size: 0n }, OTHER))).toBe(
      nfsstat4.NFS4_OK,
    );
    expect(status(authorizeSetattr(FILE, { size: 0n }, OTHER))).toBe(nfsstat4.NFS4ERR_ACCESS);
    expect(status(authorizeSetattr({ ...FILE, mode: 0o444 }, { size: 0n }, OWNER))).toBe(
      nfsstat4.NFS4_OK,
    );
  });

  it("set-gid on a file of a group the caller is not in is dropped, not refused", () => {
    const r = authorizeSetattr({ ...FILE, gid: 999 }, { mode: 0o2755 }, OWNER);
    expect(r).toEqual({ ok: true, attrs: { mode: 0o755 } });
    expect(authorizeSetattr(FILE, { mode: 0o2755 }, OWNER)).toEqual({
      ok: true,
      attrs: { mode: 0o2755 },
    });
    // Directories keep it (it means "inherit the group" there).
    expect(authorizeSetattr({ ...DIR, gid: 999 }, { mode: 0o2755 }, OWNER)).toEqual({
      ok: true,
      attrs: { mode: 0o2755 },
    });
  });

  it("changing a file's owner or group clears set-uid, and executable set-gid", () => {
    const suid = { ...FILE, mode: 0o6755 };
    expect(authorizeSetattr(suid, { uid: 7 }, ROOT)).toEqual({
      ok: true,
      attrs: { uid: 7, mode: 0o755 },
    });
    // Set-gid without group execute is a mandatory-locking marker: kept.
    expect(authorizeSetattr({ ...FILE, mode: 0o6744 }, { gid: 200 }, OWNER)).toEqual({
      ok: true,
      attrs: { gid: 200, mode: 0o2744 },
    });
    // Even an explicit mode in the same request loses the bits.
    expect(authorizeSetattr(FILE, { uid: 7, mode: 0o4755 }, ROOT)).toEqual({
      ok: true,
      attrs: { uid: 7, mode: 0o755 },
    });
    // Directories and no-op chowns are left alone.
    expect(authorizeSetattr({ ...DIR, mode: 0o2755 }, { uid: 7 }, ROOT)).toEqual({
      ok: true,
      attrs: { uid: 7 },
    });
    expect(authorizeSetattr(suid, { uid: 1000 }, OWNER)).toEqual({
      ok: true,
      attrs: { uid: 1000 },
    });
  });
});
