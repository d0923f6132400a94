// Several exports joined by the pseudo-filesystem, with per-export rules,
// against the real server over TCP: navigation, LOOKUPP across the export
// boundary, fsid and mounted_on_fileid, NFS4ERR_ROFS on every modifying
// operation of a read-only export, root and all squash, SECINFO and
// WRONGSEC, and client lists (a client connecting from 127.0.0.2).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FATTR4_FILEID,
  FATTR4_FSID,
  FATTR4_MODE,
  FATTR4_MOUNTED_ON_FILEID,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_DENY_NONE,
  ACCESS4_MODIFY,
  ACCESS4_READ,
  createmode4,
  decodefattr4_fileid,
  decodefattr4_fsid,
  decodefattr4_mounted_on_fileid,
  encodefattr4_mode,
  nfs_ftype4,
  open_claim_type4,
  opentype4,
  secinfo_style4,
  stable_how4,
  type fattr4,
  type nfs_argop4,
  type nfs_resop4,
  type stateid4,
} from "../../generated/nfs4/index.js";
import { auth_flavor } from "../../generated/rpc/index.js";
import {
  decodeAttributes,
  ops,
  resultOf,
  type ClientSession,
  type NfsClient,
  type SessionReply,
} from "../../src/client/index.js";
import { parsePrefix } from "../../src/exports/address.js";
import { bitmapOf } from "../../src/protocol/bitmap.js";
import type { ExportDefinition } from "../../src/exports/namespace.js";
import { DEFAULT_EXPORT_RULES, type ExportRules } from "../../src/exports/rules.js";
import type { FileHandle } from "../../src/fs/backend.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import { NfsServer } from "../../src/nfs/server.js";
import { statusOf } from "../../src/protocol/results.js";
import { openDataDir } from "../../src/store/data-dir.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { OP, ST, establish, establishReady, uniqueOwner } from "./support.js";

const utf8 = new TextEncoder();
const NO_ATTRS: fattr4 = { attrmask: [], attr_vals: new Uint8Array(0) };
const ANONYMOUS: stateid4 = { seqid: 0, other: new Uint8Array(12) };

function rules(over: Partial<ExportRules>): ExportRules {
  return { ...DEFAULT_EXPORT_RULES, ...over };
}

/** A memory backend whose export directory (mode 0777) holds a root-owned file "f" (0644, "data") and a private one "secret" (0600). */
async function populated(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem({ exportMode: 0o777 });
  const exp = (await fs.lookup(await fs.root(), "export")).handle;
  const f = await fs.create(exp, "f", { kind: "guarded" }, { mode: 0o644, uid: 0, gid: 0 });
  await fs.write(f.handle, 0n, utf8.encode("data"), stable_how4.FILE_SYNC4);
  await fs.create(exp, "secret", { kind: "guarded" }, { mode: 0o600, uid: 0, gid: 0 });
  return fs;
}

let server: NfsServer;
let port: number;

beforeAll(async () => {
  const defs: ExportDefinition[] = [
    { path: "/export", id: 11, fs: await populated(), rules: rules({}) },
    { path: "/pub/ro", id: 12, fs: await populated(), rules: rules({ readOnly: true }) },
    { path: "/pub/rw", id: 13, fs: await populated(), rules: rules({}) },
    { path: "/root-squash", id: 14, fs: await populated(), rules: rules({ squash: "root" }) },
    {
      path: "/all-squash",
      id: 15,
      fs: await populated(),
      rules: rules({ squash: "all", anonUid: 1234, anonGid: 5678 }),
    },
    {
      path: "/secure",
      id: 16,
      fs: await populated(),
      rules: rules({ flavors: [auth_flavor.AUTH_SYS] }),
    },
    {
      path: "/private",
      id: 17,
      fs: await populated(),
      rules: rules({ clients: [parsePrefix("127.0.0.1/32")] }),
    },
    {
      path: "/deep/v6only",
      id: 18,
      fs: await populated(),
      rules: rules({ clients: [parsePrefix("::1")] }),
    },
  ];
  server = new NfsServer({ exports: defs });
  port = (await server.listen([{ host: "127.0.0.1", port: 0 }]))[0]!.port;
});

afterAll(async () => {
  await server.close();
});

async function session(
  options: { cred?: { uid: number; gid: number; gids?: number[] } | "none"; from?: string } = {},
): Promise<{ client: NfsClient; session: ClientSession }> {
  const cred =
    options.cred === undefined || options.cred === "none"
      ? options.cred
      : { uid: options.cred.uid, gid: options.cred.gid, gids: options.cred.gids ?? [] };
  // Done reclaiming (RFC 8881 §18.51): OPEN is allowed from now on.
  return establishReady(port, {
    owner: uniqueOwner("exports"),
    ...(cred === undefined ? {} : { cred }),
    ...(options.from === undefined ? {} : { localAddress: options.from }),
  });
}

/** PUTROOTFH then LOOKUP of each component of `path`. */
function walk(path: string): nfs_argop4[] {
  return [
    ops.putrootfh(),
    ...path
      .split("/")
      .filter((c) => c !== "")
      .map((c) => ops.lookup(c)),
  ];
}

/** The status of the last operation that ran. */
function lastStatus(reply: SessionReply): number {
  return statusOf(reply.resarray.at(-1)!);
}

async function fhOf(s: ClientSession, path: string): Promise<FileHandle> {
  const r = await s.compound([...walk(path), ops.getfh()]);
  expect(r.status).toBe(ST.NFS4_OK);
  const fh = resultOf(r.resarray.at(-1), OP.OP_GETFH);
  if (fh?.status !== ST.NFS4_OK) throw new Error("GETFH");
  return fh.resok4.object;
}

interface Ids {
  fsid: { major: bigint; minor: bigint };
  fileid: bigint;
  mountedOn: bigint;
}

function decodeIds(attrs: fattr4): Ids {
  const r = new XdrReader(attrs.attr_vals);
  return {
    fsid: decodefattr4_fsid(r),
    fileid: decodefattr4_fileid(r),
    mountedOn: decodefattr4_mounted_on_fileid(r),
  };
}

const ID_BITS = bitmapOf([FATTR4_FSID, FATTR4_FILEID, FATTR4_MOUNTED_ON_FILEID]);

async function idsOf(s: ClientSession, path: string): Promise<Ids> {
  const r = await s.compound([...walk(path), ops.getattr(ID_BITS)]);
  expect(r.status).toBe(ST.NFS4_OK);
  const g = resultOf(r.resarray.at(-1), OP.OP_GETATTR);
  if (g?.status !== ST.NFS4_OK) throw new Error("GETATTR");
  return decodeIds(g.resok4.obj_attributes);
}

async function names(s: ClientSession, path: string): Promise<string[]> {
  const r = await s.compound([...walk(path), ops.readdir(0n, new Uint8Array(8), ID_BITS, 8192)]);
  expect(r.status).toBe(ST.NFS4_OK);
  const d = resultOf(r.resarray.at(-1), OP.OP_READDIR);
  if (d?.status !== ST.NFS4_OK) throw new Error("READDIR");
  expect(d.resok4.reply.eof).toBe(true);
  return d.resok4.reply.entries.map((e) => new TextDecoder().decode(e.name));
}

const mkdirOp = (name: string): nfs_argop4 => ({
  argop: OP.OP_CREATE,
  opcreate: {
    objtype: { type: nfs_ftype4.NF4DIR },
    objname: utf8.encode(name),
    createattrs: NO_ATTRS,
  },
});

function openOp(name: string, access: number, create: boolean): nfs_argop4 {
  return {
    argop: OP.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: access | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
      share_deny: OPEN4_SHARE_DENY_NONE,
      owner: { clientid: 0n, owner: utf8.encode("owner") },
      openhow: create
        ? {
            opentype: opentype4.OPEN4_CREATE,
            how: { mode: createmode4.UNCHECKED4, createattrs: NO_ATTRS },
          }
        : { opentype: opentype4.OPEN4_NOCREATE },
      claim: { claim: open_claim_type4.CLAIM_NULL, file: utf8.encode(name) },
    },
  };
}

function setModeOp(mode: number): nfs_argop4 {
  const w = new XdrWriter();
  encodefattr4_mode(w, mode);
  return {
    argop: OP.OP_SETATTR,
    opsetattr: {
      stateid: ANONYMOUS,
      obj_attributes: { attrmask: bitmapOf([FATTR4_MODE]), attr_vals: w.toBytes() },
    },
  };
}

const writeOp: nfs_argop4 = {
  argop: OP.OP_WRITE,
  opwrite: {
    stateid: ANONYMOUS,
    offset: 0n,
    stable: stable_how4.FILE_SYNC4,
    data: utf8.encode("x"),
  },
};
const readOp: nfs_argop4 = {
  argop: OP.OP_READ,
  opread: { stateid: ANONYMOUS, offset: 0n, count: 100 },
};
const removeOp = (name: string): nfs_argop4 => ({
  argop: OP.OP_REMOVE,
  opremove: { target: utf8.encode(name) },
});
const renameOp = (from: string, to: string): nfs_argop4 => ({
  argop: OP.OP_RENAME,
  oprename: { oldname: utf8.encode(from), newname: utf8.encode(to) },
});
const linkOp = (name: string): nfs_argop4 => ({
  argop: OP.OP_LINK,
  oplink: { newname: utf8.encode(name) },
});
const savefh: nfs_argop4 = { argop: OP.OP_SAVEFH };
const lookupp: nfs_argop4 = { argop: OP.OP_LOOKUPP };
const secinfoOp = (name: string): nfs_argop4 => ({
  argop: OP.OP_SECINFO,
  opsecinfo: { name: utf8.encode(name) },
});
const secinfoNoName = (style: secinfo_style4): nfs_argop4 => ({
  argop: OP.OP_SECINFO_NO_NAME,
  opsecinfo_no_name: style,
});
const accessOp = (bits: number): nfs_argop4 => ({
  argop: OP.OP_ACCESS,
  opaccess: { access: bits },
});

function flavorsIn(res: nfs_resop4 | undefined): number[] {
  if (res === undefined) throw new Error("no result");
  const r =
    res.resop === OP.OP_SECINFO
      ? resultOf(res, OP.OP_SECINFO)
      : resultOf(res, OP.OP_SECINFO_NO_NAME);
  if (r?.status !== ST.NFS4_OK) throw new Error(`SECINFO ${r?.status}`);
  return r.resok4.map((s) => s.flavor);
}

describe("the pseudo-filesystem", () => {
  it("joins the exports: READDIR of the root and of an intermediate directory", async () => {
    const { session: s } = await session();
    expect(await names(s, "/")).toEqual([
      "all-squash",
      "export",
      "private",
      "pub",
      "root-squash",
      "secure",
    ]);
    expect(await names(s, "/pub")).toEqual(["ro", "rw"]);
    // Inside an export: the backend's own entries.
    expect(await names(s, "/pub/ro")).toEqual(["f", "secret"]);
  });

  it("gives the pseudo-filesystem and each export its own fsid, and an export root the fileid it is mounted on", async () => {
    const { session: s } = await session();
    const root = await idsOf(s, "/");
    const pub = await idsOf(s, "/pub");
    const ro = await idsOf(s, "/pub/ro");
    const rw = await idsOf(s, "/pub/rw");
    const inside = await idsOf(s, "/pub/ro/f");
    expect(root.fsid).toEqual({ major: 0n, minor: 0n });
    expect(pub.fsid).toEqual(root.fsid);
    expect(root.mountedOn).toBe(root.fileid);
    expect(ro.fsid).toEqual({ major: 12n, minor: 0n });
    expect(rw.fsid).toEqual({ major: 13n, minor: 0n });
    expect(inside.fsid).toEqual(ro.fsid);
    expect(inside.mountedOn).toBe(inside.fileid);
    // The export's root is mounted on a pseudo directory: another fileid,
    // the one READDIR of /pub reports as the entry's mounted_on_fileid.
    expect(ro.mountedOn).not.toBe(ro.fileid);
    const r = await s.compound([
      ...walk("/pub"),
      ops.readdir(0n, new Uint8Array(8), ID_BITS, 8192),
    ]);
    const d = resultOf(r.resarray.at(-1), OP.OP_READDIR);
    if (d?.status !== ST.NFS4_OK) throw new Error("READDIR");
    const entry = d.resok4.reply.entries.find((e) => new TextDecoder().decode(e.name) === "ro")!;
    expect(decodeIds(entry.attrs)).toEqual(ro);
  });

  it("LOOKUPP from an export's root goes to the pseudo directory it is mounted in", async () => {
    const { session: s } = await session();
    const pub = await fhOf(s, "/pub");
    const root = await fhOf(s, "/");
    const up = await s.compound([...walk("/pub/ro"), lookupp, ops.getfh()]);
    expect(resultOf(up.resarray.at(-1), OP.OP_GETFH)).toMatchObject({ resok4: { object: pub } });
    const top = await s.compound([...walk("/export"), lookupp, ops.getfh()]);
    expect(resultOf(top.resarray.at(-1), OP.OP_GETFH)).toMatchObject({ resok4: { object: root } });
    const none = await s.compound([ops.putrootfh(), lookupp]);
    expect(lastStatus(none)).toBe(ST.NFS4ERR_NOENT);
  });

  it("cannot be changed: NFS4ERR_ROFS", async () => {
    const { session: s } = await session();
    expect(lastStatus(await s.compound([ops.putrootfh(), mkdirOp("d")]))).toBe(ST.NFS4ERR_ROFS);
    expect(
      lastStatus(await s.compound([...walk("/pub"), openOp("new", OPEN4_SHARE_ACCESS_BOTH, true)])),
    ).toBe(ST.NFS4ERR_ROFS);
    expect(lastStatus(await s.compound([...walk("/pub"), removeOp("ro")]))).toBe(ST.NFS4ERR_ROFS);
    expect(lastStatus(await s.compound([...walk("/pub"), setModeOp(0o777)]))).toBe(ST.NFS4ERR_ROFS);
  });

  it("answers RENAME and LINK between exports NFS4ERR_XDEV", async () => {
    const { session: s } = await session();
    const rename = await s.compound([
      ...walk("/pub/rw"),
      savefh,
      ...walk("/export"),
      renameOp("f", "g"),
    ]);
    expect(lastStatus(rename)).toBe(ST.NFS4ERR_XDEV);
    const link = await s.compound([...walk("/pub/rw/f"), savefh, ...walk("/export"), linkOp("g")]);
    expect(lastStatus(link)).toBe(ST.NFS4ERR_XDEV);
  });
});

describe("a read-only export", () => {
  it("refuses every modifying operation with NFS4ERR_ROFS and serves reads", async () => {
    const { session: s } = await session();
    const ro = "/pub/ro";
    const refused: [string, nfs_argop4[]][] = [
      ["CREATE", [...walk(ro), mkdirOp("d")]],
      ["OPEN create", [...walk(ro), openOp("new", OPEN4_SHARE_ACCESS_BOTH, true)]],
      ["OPEN for write", [...walk(ro), openOp("f", OPEN4_SHARE_ACCESS_BOTH, false)]],
      ["WRITE", [...walk(`${ro}/f`), writeOp]],
      ["SETATTR", [...walk(`${ro}/f`), setModeOp(0o600)]],
      ["REMOVE", [...walk(ro), removeOp("f")]],
      ["RENAME", [...walk(ro), savefh, renameOp("f", "g")]],
      ["LINK", [...walk(`${ro}/f`), savefh, ...walk(ro), linkOp("g")]],
    ];
    for (const [what, argops] of refused)
      expect({ what, status: lastStatus(await s.compound(argops)) }).toEqual({
        what,
        status: ST.NFS4ERR_ROFS,
      });
    // Reading is fine.
    const read = await s.compound([...walk(`${ro}/f`), readOp]);
    expect(read.status).toBe(ST.NFS4_OK);
    const opened = await s.compound([...walk(ro), openOp("f", OPEN4_SHARE_ACCESS_READ, false)]);
    expect(opened.status).toBe(ST.NFS4_OK);
    // ACCESS grants no right that needs writing.
    const access = await s.compound([...walk(`${ro}/f`), accessOp(ACCESS4_READ | ACCESS4_MODIFY)]);
    expect(resultOf(access.resarray.at(-1), OP.OP_ACCESS)).toMatchObject({
      resok4: { supported: ACCESS4_READ | ACCESS4_MODIFY, access: ACCESS4_READ },
    });
    // The same operations succeed on its read-write sibling.
    expect((await s.compound([...walk("/pub/rw"), mkdirOp("d")])).status).toBe(ST.NFS4_OK);
  });

  it("refuses SETXATTR, REMOVEXATTR and ALLOCATE (NFSv4.2) with NFS4ERR_ROFS", async () => {
    const { client, session: s } = await session();
    const f = await fhOf(s, "/pub/ro/f");
    const sequence = (slot: number): nfs_argop4 =>
      ops.sequence({
        sa_sessionid: s.id,
        sa_sequenceid: 1,
        sa_slotid: slot,
        sa_highest_slotid: slot,
        sa_cachethis: false,
      });
    const xattrOps: nfs_argop4[] = [
      {
        argop: OP.OP_SETXATTR,
        opsetxattr: { sxa_option: 0, sxa_key: utf8.encode("user.k"), sxa_value: utf8.encode("v") },
      },
      { argop: OP.OP_REMOVEXATTR, opremovexattr: { rxa_name: utf8.encode("user.k") } },
      {
        argop: OP.OP_ALLOCATE,
        opallocate: { aa_stateid: ANONYMOUS, aa_offset: 0n, aa_length: 4096n },
      },
    ];
    // Slots the session's own requests never used (the client picks the lowest free ones).
    let slot = s.slots.size - 1;
    for (const op of xattrOps) {
      const reply = await client.compoundRaw({
        tag: utf8.encode("xattr"),
        minorversion: 2,
        argarray: [sequence(slot--), ops.putfh(f), op],
      });
      expect(statusOf(reply.res.resarray.at(-1)!)).toBe(ST.NFS4ERR_ROFS);
    }
  });
});

describe("squashing", () => {
  async function ownerOf(
    s: ClientSession,
    path: string,
  ): Promise<{ owner?: string; ownerGroup?: string }> {
    const r = await s.compound([
      ...walk(path),
      ops.getattr(bitmapOf([FATTR4_OWNER, FATTR4_OWNER_GROUP])),
    ]);
    const g = resultOf(r.resarray.at(-1), OP.OP_GETATTR);
    if (g?.status !== ST.NFS4_OK) throw new Error("GETATTR");
    const { owner, ownerGroup } = decodeAttributes(g.resok4.obj_attributes);
    return { owner, ownerGroup };
  }

  it("root squash: root creates as the anonymous user and is refused what only root may read", async () => {
    const { session: root } = await session({ cred: { uid: 0, gid: 0 } });
    expect((await root.compound([...walk("/root-squash"), mkdirOp("by-root")])).status).toBe(
      ST.NFS4_OK,
    );
    expect(await ownerOf(root, "/root-squash/by-root")).toEqual({
      owner: "65534",
      ownerGroup: "65534",
    });
    const secret = await root.compound([
      ...walk("/root-squash"),
      openOp("secret", OPEN4_SHARE_ACCESS_READ, false),
    ]);
    expect(lastStatus(secret)).toBe(ST.NFS4ERR_ACCESS);
    // Other users keep their identity.
    const { session: user } = await session({ cred: { uid: 1000, gid: 100 } });
    expect((await user.compound([...walk("/root-squash"), mkdirOp("by-user")])).status).toBe(
      ST.NFS4_OK,
    );
    expect(await ownerOf(user, "/root-squash/by-user")).toEqual({
      owner: "1000",
      ownerGroup: "100",
    });
    // Elsewhere root is root.
    expect(
      (await root.compound([...walk("/export"), openOp("secret", OPEN4_SHARE_ACCESS_READ, false)]))
        .status,
    ).toBe(ST.NFS4_OK);
  });

  it("all squash: everyone is anonuid/anongid, and SETATTR of mode needs to be that owner", async () => {
    const { session: user } = await session({ cred: { uid: 1000, gid: 100 } });
    expect((await user.compound([...walk("/all-squash"), mkdirOp("d")])).status).toBe(ST.NFS4_OK);
    expect(await ownerOf(user, "/all-squash/d")).toEqual({ owner: "1234", ownerGroup: "5678" });
    // The file "f" belongs to root: a squashed caller may not chmod it.
    expect(lastStatus(await user.compound([...walk("/all-squash/f"), setModeOp(0o600)]))).toBe(
      ST.NFS4ERR_PERM,
    );
    // But may chmod what "it" created.
    expect((await user.compound([...walk("/all-squash/d"), setModeOp(0o700)])).status).toBe(
      ST.NFS4_OK,
    );
  });
});

describe("security flavors", () => {
  it("SECINFO and SECINFO_NO_NAME answer each export's flavors", async () => {
    const { session: s } = await session();
    const both = [auth_flavor.AUTH_SYS, auth_flavor.AUTH_NONE];
    expect(
      flavorsIn((await s.compound([ops.putrootfh(), secinfoOp("secure")])).resarray.at(-1)),
    ).toEqual([auth_flavor.AUTH_SYS]);
    expect(
      flavorsIn((await s.compound([ops.putrootfh(), secinfoOp("export")])).resarray.at(-1)),
    ).toEqual(both);
    const current = await s.compound([
      ...walk("/secure"),
      secinfoNoName(secinfo_style4.SECINFO_STYLE4_CURRENT_FH),
    ]);
    expect(flavorsIn(current.resarray.at(-1))).toEqual([auth_flavor.AUTH_SYS]);
    // The parent of an export's root is the pseudo-filesystem: every flavor some export takes.
    const parent = await s.compound([
      ...walk("/secure"),
      secinfoNoName(secinfo_style4.SECINFO_STYLE4_PARENT),
    ]);
    expect(flavorsIn(parent.resarray.at(-1))).toEqual(both);
  });

  it("an AUTH_NONE request into an AUTH_SYS-only export gets NFS4ERR_WRONGSEC where RFC 8881 §2.6.3.1.1 says", async () => {
    const { session: sys } = await session();
    const secure = await fhOf(sys, "/secure");
    const { session: none } = await session({ cred: "none" });
    // LOOKUP into it (§2.6.3.1.1.4).
    const lookup = await none.compound(walk("/secure"));
    expect(lastStatus(lookup)).toBe(ST.NFS4ERR_WRONGSEC);
    // PUTFH followed by an ordinary operation (§2.6.3.1.1.8): the PUTFH fails.
    const putfh = await none.compound([ops.putfh(secure), ops.getfh()]);
    expect(putfh.resarray).toHaveLength(1);
    expect(lastStatus(putfh)).toBe(ST.NFS4ERR_WRONGSEC);
    // PUTFH alone (§2.6.3.1.1.7) and PUTFH + SECINFO_NO_NAME (§2.6.3.1.1.6) are fine.
    expect((await none.compound([ops.putfh(secure)])).status).toBe(ST.NFS4_OK);
    const asked = await none.compound([
      ops.putfh(secure),
      secinfoNoName(secinfo_style4.SECINFO_STYLE4_CURRENT_FH),
    ]);
    expect(flavorsIn(asked.resarray.at(-1))).toEqual([auth_flavor.AUTH_SYS]);
    // The pseudo-filesystem and the other exports take AUTH_NONE.
    expect((await none.compound([...walk("/export/f"), ops.getfh()])).status).toBe(ST.NFS4_OK);
  });
});

describe("client lists", () => {
  it("a client outside an export's list does not see it, cannot look it up, and its handles are stale", async () => {
    const { session: local } = await session();
    const { session: other } = await session({ from: "127.0.0.2" });
    // /private admits 127.0.0.1 only; /deep/v6only admits ::1 only, so /deep is empty for both.
    expect(await names(local, "/")).toContain("private");
    expect(await names(other, "/")).toEqual([
      "all-squash",
      "export",
      "pub",
      "root-squash",
      "secure",
    ]);
    expect(await names(local, "/")).not.toContain("deep");
    expect(lastStatus(await other.compound(walk("/private")))).toBe(ST.NFS4ERR_NOENT);
    expect(lastStatus(await local.compound(walk("/deep")))).toBe(ST.NFS4ERR_NOENT);
    expect(lastStatus(await other.compound([ops.putrootfh(), secinfoOp("private")]))).toBe(
      ST.NFS4ERR_NOENT,
    );
    // OPEN by name sees what LOOKUP sees (a visible export's root is a directory).
    const openPrivate = [ops.putrootfh(), openOp("private", OPEN4_SHARE_ACCESS_READ, false)];
    expect(lastStatus(await other.compound(openPrivate))).toBe(ST.NFS4ERR_NOENT);
    expect(lastStatus(await local.compound(openPrivate))).toBe(ST.NFS4ERR_ISDIR);
    const privateRoot = await fhOf(local, "/private");
    const privateFile = await fhOf(local, "/private/f");
    for (const fh of [privateRoot, privateFile])
      expect(lastStatus(await other.compound([ops.putfh(fh), ops.getfh()]))).toBe(ST.NFS4ERR_STALE);
    // The admitted client uses it as any other.
    expect((await local.compound([ops.putfh(privateFile), readOp])).status).toBe(ST.NFS4_OK);
  });
});

describe("handles across a restart", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("stay valid with the same configuration, and are STALE when the export's id changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dfs-exports-"));
    dirs.push(dir);
    const serve = async (
      id: number,
    ): Promise<{ server: NfsServer; close: () => Promise<void>; port: number }> => {
      const store = await openDataDir(dir);
      const srv = new NfsServer({
        exports: [
          { path: "/a/data", id, fs: store.fs, rules: DEFAULT_EXPORT_RULES },
          { path: "/scratch", id: 99, fs: new MemoryFileSystem(), rules: DEFAULT_EXPORT_RULES },
        ],
        serverOwner: store.serverOwner,
      });
      const [bound] = await srv.listen([{ host: "127.0.0.1", port: 0 }]);
      return {
        server: srv,
        port: bound!.port,
        close: async () => {
          await srv.close();
          await store.close();
        },
      };
    };
    const first = await serve(7);
    const a = await establish(first.port, { owner: uniqueOwner("restart") });
    expect((await a.session.compound([...walk("/a/data"), mkdirOp("kept")])).status).toBe(
      ST.NFS4_OK,
    );
    const handles = {
      root: await fhOf(a.session, "/"),
      pseudo: await fhOf(a.session, "/a"),
      exportRoot: await fhOf(a.session, "/a/data"),
      kept: await fhOf(a.session, "/a/data/kept"),
    };
    a.client.destroy();
    await first.close();

    const second = await serve(7);
    const b = await establish(second.port, { owner: uniqueOwner("restart") });
    for (const [what, fh] of Object.entries(handles))
      expect({
        what,
        status: (await b.session.compound([ops.putfh(fh), ops.getfh()])).status,
      }).toEqual({
        what,
        status: ST.NFS4_OK,
      });
    b.client.destroy();
    await second.close();

    // Another id for the same data: its old handles name nothing (never another export's objects).
    const third = await serve(8);
    const c = await establish(third.port, { owner: uniqueOwner("restart") });
    expect(lastStatus(await c.session.compound([ops.putfh(handles.kept)]))).toBe(ST.NFS4ERR_STALE);
    expect((await c.session.compound([ops.putfh(handles.pseudo)])).status).toBe(ST.NFS4_OK);
    c.client.destroy();
    await third.close();
  });
});
