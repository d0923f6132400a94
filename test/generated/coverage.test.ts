// generated/ against the RFCs' own numbers, written out here from RFC 8881
// §16/§20 (operations), RFC 8881 §15.1 (errors), RFC 7862/7863 (NFSv4.2) and
// RFC 9754 (its attributes, bit enums and OPEN flags), so that a spec or generator slip that renumbers anything fails loudly.

import { describe, expect, it } from "vitest";
import {
  FATTR4_OFFLINE,
  FATTR4_OPEN_ARGUMENTS,
  FATTR4_TIME_DELEG_ACCESS,
  FATTR4_TIME_DELEG_MODIFY,
  OPEN4_RESULT_NO_OPEN_STATEID,
  OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS,
  OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION,
  NFS4_CALLBACK,
  NFS4_PROGRAM,
  NFS_CB,
  NFS_V4,
  NFSPROC4_COMPOUND,
  NFSPROC4_NULL,
  CB_COMPOUND,
  CB_NULL,
  nfs4Programs,
  nfs4Types,
  nfs_cb_opnum4,
  nfs_cb_opnum4_names,
  nfs_opnum4,
  nfs_opnum4_names,
  nfsstat4,
  nfsstat4_names,
  open_args_createmode4,
  open_args_open_claim4,
  open_args_share_access4,
  open_args_share_access_want4,
  open_args_share_deny4,
} from "../../generated/nfs4/index.js";

const OPS: Record<string, number> = {
  OP_ACCESS: 3,
  OP_CLOSE: 4,
  OP_COMMIT: 5,
  OP_CREATE: 6,
  OP_DELEGPURGE: 7,
  OP_DELEGRETURN: 8,
  OP_GETATTR: 9,
  OP_GETFH: 10,
  OP_LINK: 11,
  OP_LOCK: 12,
  OP_LOCKT: 13,
  OP_LOCKU: 14,
  OP_LOOKUP: 15,
  OP_LOOKUPP: 16,
  OP_NVERIFY: 17,
  OP_OPEN: 18,
  OP_OPENATTR: 19,
  OP_OPEN_CONFIRM: 20,
  OP_OPEN_DOWNGRADE: 21,
  OP_PUTFH: 22,
  OP_PUTPUBFH: 23,
  OP_PUTROOTFH: 24,
  OP_READ: 25,
  OP_READDIR: 26,
  OP_READLINK: 27,
  OP_REMOVE: 28,
  OP_RENAME: 29,
  OP_RENEW: 30,
  OP_RESTOREFH: 31,
  OP_SAVEFH: 32,
  OP_SECINFO: 33,
  OP_SETATTR: 34,
  OP_SETCLIENTID: 35,
  OP_SETCLIENTID_CONFIRM: 36,
  OP_VERIFY: 37,
  OP_WRITE: 38,
  OP_RELEASE_LOCKOWNER: 39,
  // NFSv4.1 (RFC 8881 §18.33–§18.51)
  OP_BACKCHANNEL_CTL: 40,
  OP_BIND_CONN_TO_SESSION: 41,
  OP_EXCHANGE_ID: 42,
  OP_CREATE_SESSION: 43,
  OP_DESTROY_SESSION: 44,
  OP_FREE_STATEID: 45,
  OP_GET_DIR_DELEGATION: 46,
  OP_GETDEVICEINFO: 47,
  OP_GETDEVICELIST: 48,
  OP_LAYOUTCOMMIT: 49,
  OP_LAYOUTGET: 50,
  OP_LAYOUTRETURN: 51,
  OP_SECINFO_NO_NAME: 52,
  OP_SEQUENCE: 53,
  OP_SET_SSV: 54,
  OP_TEST_STATEID: 55,
  OP_WANT_DELEGATION: 56,
  OP_DESTROY_CLIENTID: 57,
  OP_RECLAIM_COMPLETE: 58,
  // NFSv4.2 (RFC 7862 §15)
  OP_ALLOCATE: 59,
  OP_COPY: 60,
  OP_COPY_NOTIFY: 61,
  OP_DEALLOCATE: 62,
  OP_IO_ADVISE: 63,
  OP_LAYOUTERROR: 64,
  OP_LAYOUTSTATS: 65,
  OP_OFFLOAD_CANCEL: 66,
  OP_OFFLOAD_STATUS: 67,
  OP_READ_PLUS: 68,
  OP_SEEK: 69,
  OP_WRITE_SAME: 70,
  OP_CLONE: 71,
  // Extended attributes (RFC 8276, an NFSv4.2 extension)
  OP_GETXATTR: 72,
  OP_SETXATTR: 73,
  OP_LISTXATTRS: 74,
  OP_REMOVEXATTR: 75,
  OP_ILLEGAL: 10044,
};

const CB_OPS: Record<string, number> = {
  OP_CB_GETATTR: 3,
  OP_CB_RECALL: 4,
  OP_CB_LAYOUTRECALL: 5,
  OP_CB_NOTIFY: 6,
  OP_CB_PUSH_DELEG: 7,
  OP_CB_RECALL_ANY: 8,
  OP_CB_RECALLABLE_OBJ_AVAIL: 9,
  OP_CB_RECALL_SLOT: 10,
  OP_CB_SEQUENCE: 11,
  OP_CB_WANTS_CANCELLED: 12,
  OP_CB_NOTIFY_LOCK: 13,
  OP_CB_NOTIFY_DEVICEID: 14,
  OP_CB_OFFLOAD: 15, // NFSv4.2
  OP_CB_ILLEGAL: 10044,
};

const ERRORS: Record<string, number> = {
  NFS4_OK: 0,
  NFS4ERR_PERM: 1,
  NFS4ERR_NOENT: 2,
  NFS4ERR_IO: 5,
  NFS4ERR_NXIO: 6,
  NFS4ERR_ACCESS: 13,
  NFS4ERR_EXIST: 17,
  NFS4ERR_XDEV: 18,
  NFS4ERR_NOTDIR: 20,
  NFS4ERR_ISDIR: 21,
  NFS4ERR_INVAL: 22,
  NFS4ERR_FBIG: 27,
  NFS4ERR_NOSPC: 28,
  NFS4ERR_ROFS: 30,
  NFS4ERR_MLINK: 31,
  NFS4ERR_NAMETOOLONG: 63,
  NFS4ERR_NOTEMPTY: 66,
  NFS4ERR_DQUOT: 69,
  NFS4ERR_STALE: 70,
  NFS4ERR_BADHANDLE: 10001,
  NFS4ERR_BAD_COOKIE: 10003,
  NFS4ERR_NOTSUPP: 10004,
  NFS4ERR_TOOSMALL: 10005,
  NFS4ERR_SERVERFAULT: 10006,
  NFS4ERR_BADTYPE: 10007,
  NFS4ERR_DELAY: 10008,
  NFS4ERR_SAME: 10009,
  NFS4ERR_DENIED: 10010,
  NFS4ERR_EXPIRED: 10011,
  NFS4ERR_LOCKED: 10012,
  NFS4ERR_GRACE: 10013,
  NFS4ERR_FHEXPIRED: 10014,
  NFS4ERR_SHARE_DENIED: 10015,
  NFS4ERR_WRONGSEC: 10016,
  NFS4ERR_CLID_INUSE: 10017,
  NFS4ERR_RESOURCE: 10018,
  NFS4ERR_MOVED: 10019,
  NFS4ERR_NOFILEHANDLE: 10020,
  NFS4ERR_MINOR_VERS_MISMATCH: 10021,
  NFS4ERR_STALE_CLIENTID: 10022,
  NFS4ERR_STALE_STATEID: 10023,
  NFS4ERR_OLD_STATEID: 10024,
  NFS4ERR_BAD_STATEID: 10025,
  NFS4ERR_BAD_SEQID: 10026,
  NFS4ERR_NOT_SAME: 10027,
  NFS4ERR_LOCK_RANGE: 10028,
  NFS4ERR_SYMLINK: 10029,
  NFS4ERR_RESTOREFH: 10030,
  NFS4ERR_LEASE_MOVED: 10031,
  NFS4ERR_ATTRNOTSUPP: 10032,
  NFS4ERR_NO_GRACE: 10033,
  NFS4ERR_RECLAIM_BAD: 10034,
  NFS4ERR_RECLAIM_CONFLICT: 10035,
  NFS4ERR_BADXDR: 10036,
  NFS4ERR_LOCKS_HELD: 10037,
  NFS4ERR_OPENMODE: 10038,
  NFS4ERR_BADOWNER: 10039,
  NFS4ERR_BADCHAR: 10040,
  NFS4ERR_BADNAME: 10041,
  NFS4ERR_BAD_RANGE: 10042,
  NFS4ERR_LOCK_NOTSUPP: 10043,
  NFS4ERR_OP_ILLEGAL: 10044,
  NFS4ERR_DEADLOCK: 10045,
  NFS4ERR_FILE_OPEN: 10046,
  NFS4ERR_ADMIN_REVOKED: 10047,
  NFS4ERR_CB_PATH_DOWN: 10048,
  // NFSv4.1 (RFC 8881 §15.1)
  NFS4ERR_BADIOMODE: 10049,
  NFS4ERR_BADLAYOUT: 10050,
  NFS4ERR_BAD_SESSION_DIGEST: 10051,
  NFS4ERR_BADSESSION: 10052,
  NFS4ERR_BADSLOT: 10053,
  NFS4ERR_COMPLETE_ALREADY: 10054,
  NFS4ERR_CONN_NOT_BOUND_TO_SESSION: 10055,
  NFS4ERR_DELEG_ALREADY_WANTED: 10056,
  NFS4ERR_BACK_CHAN_BUSY: 10057,
  NFS4ERR_LAYOUTTRYLATER: 10058,
  NFS4ERR_LAYOUTUNAVAILABLE: 10059,
  NFS4ERR_NOMATCHING_LAYOUT: 10060,
  NFS4ERR_RECALLCONFLICT: 10061,
  NFS4ERR_UNKNOWN_LAYOUTTYPE: 10062,
  NFS4ERR_SEQ_MISORDERED: 10063,
  NFS4ERR_SEQUENCE_POS: 10064,
  NFS4ERR_REQ_TOO_BIG: 10065,
  NFS4ERR_REP_TOO_BIG: 10066,
  NFS4ERR_REP_TOO_BIG_TO_CACHE: 10067,
  NFS4ERR_RETRY_UNCACHED_REP: 10068,
  NFS4ERR_UNSAFE_COMPOUND: 10069,
  NFS4ERR_TOO_MANY_OPS: 10070,
  NFS4ERR_OP_NOT_IN_SESSION: 10071,
  NFS4ERR_HASH_ALG_UNSUPP: 10072,
  NFS4ERR_CLIENTID_BUSY: 10074,
  NFS4ERR_PNFS_IO_HOLE: 10075,
  NFS4ERR_SEQ_FALSE_RETRY: 10076,
  NFS4ERR_BAD_HIGH_SLOT: 10077,
  NFS4ERR_DEADSESSION: 10078,
  NFS4ERR_ENCR_ALG_UNSUPP: 10079,
  NFS4ERR_PNFS_NO_LAYOUT: 10080,
  NFS4ERR_NOT_ONLY_OP: 10081,
  NFS4ERR_WRONG_CRED: 10082,
  NFS4ERR_WRONG_TYPE: 10083,
  NFS4ERR_DIRDELEG_UNAVAIL: 10084,
  NFS4ERR_REJECT_DELEG: 10085,
  NFS4ERR_RETURNCONFLICT: 10086,
  NFS4ERR_DELEG_REVOKED: 10087,
  // NFSv4.2 (RFC 7862 §11.1)
  NFS4ERR_PARTNER_NOTSUPP: 10088,
  NFS4ERR_PARTNER_NO_AUTH: 10089,
  NFS4ERR_UNION_NOTSUPP: 10090,
  NFS4ERR_OFFLOAD_DENIED: 10091,
  NFS4ERR_WRONG_LFS: 10092,
  NFS4ERR_BADLABEL: 10093,
  NFS4ERR_OFFLOAD_NO_REQS: 10094,
  // Extended attributes (RFC 8276)
  NFS4ERR_NOXATTR: 10095,
  NFS4ERR_XATTR2BIG: 10096,
};

/** The arm names of a union, by discriminant value. */
function armsOf(union: string): Map<number | boolean, string | null> {
  const meta = nfs4Types[union];
  if (meta?.kind !== "union") throw new Error(`${union} is not a union`);
  return new Map(meta.arms.flatMap((a) => a.values.map((v) => [v, a.name] as const)));
}

describe("generated/nfs4 numbers match the RFCs", () => {
  it("has every operation of NFS4_PROGRAM with its RFC number, and nothing else", () => {
    expect({ ...nfs_opnum4 }).toEqual(OPS);
    for (const [name, value] of Object.entries(OPS)) expect(nfs_opnum4_names[value]).toBe(name);
  });

  it("has every callback operation of NFS4_CALLBACK", () => {
    expect({ ...nfs_cb_opnum4 }).toEqual(CB_OPS);
    for (const [name, value] of Object.entries(CB_OPS))
      expect(nfs_cb_opnum4_names[value]).toBe(name);
  });

  it("has every nfsstat4 code with its RFC number", () => {
    expect({ ...nfsstat4 }).toEqual(ERRORS);
    for (const [name, value] of Object.entries(ERRORS)) expect(nfsstat4_names[value]).toBe(name);
  });

  it("gives every operation an argument and a result arm", () => {
    const args = armsOf("nfs_argop4");
    const res = armsOf("nfs_resop4");
    for (const [name, op] of Object.entries(OPS)) {
      expect(args.has(op), `nfs_argop4 arm for ${name}`).toBe(true);
      expect(res.has(op), `nfs_resop4 arm for ${name}`).toBe(true);
    }
    expect(args.get(OPS.OP_SEQUENCE!)).toBe("opsequence");
    expect(res.get(OPS.OP_ILLEGAL!)).toBe("opillegal");
    const cbArgs = armsOf("nfs_cb_argop4");
    const cbRes = armsOf("nfs_cb_resop4");
    for (const [name, op] of Object.entries(CB_OPS)) {
      expect(cbArgs.has(op), `nfs_cb_argop4 arm for ${name}`).toBe(true);
      expect(cbRes.has(op), `nfs_cb_resop4 arm for ${name}`).toBe(true);
    }
  });

  it("defines the two RPC programs", () => {
    expect([NFS4_PROGRAM, NFS_V4, NFSPROC4_NULL, NFSPROC4_COMPOUND]).toEqual([100003, 4, 0, 1]);
    expect([NFS4_CALLBACK, NFS_CB, CB_NULL, CB_COMPOUND]).toEqual([0x40000000, 1, 0, 1]);
    expect(
      nfs4Programs.map((p) => [
        p.name,
        p.number,
        p.versions.map((v) => v.procedures.map((x) => x.name)),
      ]),
    ).toEqual([
      ["NFS4_PROGRAM", 100003, [["NFSPROC4_NULL", "NFSPROC4_COMPOUND"]]],
      ["NFS4_CALLBACK", 0x40000000, [["CB_NULL", "CB_COMPOUND"]]],
    ]);
  });
});

describe("generated/nfs4 has RFC 9754's numbers", () => {
  it("attributes 83-86 (§2.1, §5.2, §3.1) and the OPEN flags (§4, §5.2)", () => {
    expect([
      FATTR4_OFFLINE,
      FATTR4_TIME_DELEG_ACCESS,
      FATTR4_TIME_DELEG_MODIFY,
      FATTR4_OPEN_ARGUMENTS,
    ]).toEqual([83, 84, 85, 86]);
    expect(OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS).toBe(0x100000);
    expect(OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION).toBe(0x200000);
    expect(OPEN4_RESULT_NO_OPEN_STATEID).toBe(0x10);
    expect(nfs4Types.fattr4_time_deleg_access?.maxSize).toBe(12);
    expect(nfs4Types.fattr4_time_deleg_modify?.maxSize).toBe(12);
  });

  it("the bit numbers of open_arguments4's bitmaps (§3.1)", () => {
    expect({ ...open_args_share_access4 }).toEqual({
      OPEN_ARGS_SHARE_ACCESS_READ: 1,
      OPEN_ARGS_SHARE_ACCESS_WRITE: 2,
      OPEN_ARGS_SHARE_ACCESS_BOTH: 3,
    });
    expect({ ...open_args_share_deny4 }).toEqual({
      OPEN_ARGS_SHARE_DENY_NONE: 0,
      OPEN_ARGS_SHARE_DENY_READ: 1,
      OPEN_ARGS_SHARE_DENY_WRITE: 2,
      OPEN_ARGS_SHARE_DENY_BOTH: 3,
    });
    expect({ ...open_args_share_access_want4 }).toEqual({
      OPEN_ARGS_SHARE_ACCESS_WANT_ANY_DELEG: 3,
      OPEN_ARGS_SHARE_ACCESS_WANT_NO_DELEG: 4,
      OPEN_ARGS_SHARE_ACCESS_WANT_CANCEL: 5,
      OPEN_ARGS_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL: 17,
      OPEN_ARGS_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED: 18,
      OPEN_ARGS_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS: 20,
      OPEN_ARGS_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION: 21,
    });
    expect({ ...open_args_open_claim4 }).toEqual({
      OPEN_ARGS_OPEN_CLAIM_NULL: 0,
      OPEN_ARGS_OPEN_CLAIM_PREVIOUS: 1,
      OPEN_ARGS_OPEN_CLAIM_DELEGATE_CUR: 2,
      OPEN_ARGS_OPEN_CLAIM_DELEGATE_PREV: 3,
      OPEN_ARGS_OPEN_CLAIM_FH: 4,
      OPEN_ARGS_OPEN_CLAIM_DELEG_CUR_FH: 5,
      OPEN_ARGS_OPEN_CLAIM_DELEG_PREV_FH: 6,
    });
    expect({ ...open_args_createmode4 }).toEqual({
      OPEN_ARGS_CREATEMODE_UNCHECKED4: 0,
      OPEN_ARGS_CREATE_MODE_GUARDED: 1,
      OPEN_ARGS_CREATEMODE_EXCLUSIVE4: 2,
      OPEN_ARGS_CREATE_MODE_EXCLUSIVE4_1: 3,
    });
  });
});
