// Byte vectors for key NFSv4.1 and ONC RPC messages. Every expected encoding is
// written out by hand from the XDR of RFC 8881 / RFC 5662 (NFSv4.1), RFC 7863
// (NFSv4.2 additions) and RFC 5531 (RPC), following RFC 4506's rules: every item
// is big-endian and a multiple of 4 bytes; fixed-length opaques have no length
// word; variable-length opaques/strings and arrays start with a 4-byte count;
// opaque data is zero-padded to a multiple of 4; bool is a 4-byte 0 or 1; a
// union is its 4-byte discriminant followed by the selected arm; hyper is 8
// bytes. None of these bytes come from the encoder under test.
//
// Each vector is checked three ways: the generated encoder must produce exactly
// the bytes, the generated decoder must turn the bytes back into the value and
// consume all of them, and the metadata-driven XdrInterpreter must agree in both
// directions.

import { describe, expect, it } from "vitest";
import type {
  CB_COMPOUND4args,
  CB_COMPOUND4res,
  COMPOUND4args,
  COMPOUND4res,
  CREATE_SESSION4args,
  CREATE_SESSION4res,
  EXCHANGE_ID4args,
  EXCHANGE_ID4res,
  channel_attrs4,
  nfs_impl_id4,
} from "../../generated/nfs4/index.js";
import {
  CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
  CREATE_SESSION4_FLAG_PERSIST,
  EXCHGID4_FLAG_BIND_PRINC_STATEID,
  EXCHGID4_FLAG_CONFIRMED_R,
  EXCHGID4_FLAG_SUPP_MOVED_MIGR,
  EXCHGID4_FLAG_SUPP_MOVED_REFER,
  EXCHGID4_FLAG_USE_NON_PNFS,
  FATTR4_CHANGE,
  FATTR4_FILEID,
  FATTR4_FSID,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_SIZE,
  FATTR4_TIME_MODIFY,
  FATTR4_TYPE,
  NFS4_PROGRAM,
  NFSPROC4_COMPOUND,
  NFS_V4,
  decodeCB_COMPOUND4args,
  decodeCB_COMPOUND4res,
  decodeCOMPOUND4args,
  decodeCOMPOUND4res,
  decodeCREATE_SESSION4args,
  decodeCREATE_SESSION4res,
  decodeEXCHANGE_ID4args,
  decodeEXCHANGE_ID4res,
  decodeSEQUENCE4args,
  decodefattr4_change,
  decodefattr4_fileid,
  decodefattr4_fsid,
  decodefattr4_mode,
  decodefattr4_numlinks,
  decodefattr4_owner,
  decodefattr4_owner_group,
  decodefattr4_size,
  decodefattr4_time_modify,
  decodefattr4_type,
  decodenfs_argop4,
  encodeCB_COMPOUND4args,
  encodeCB_COMPOUND4res,
  encodeCOMPOUND4args,
  encodeCOMPOUND4res,
  encodeCREATE_SESSION4args,
  encodeCREATE_SESSION4res,
  encodeEXCHANGE_ID4args,
  encodeEXCHANGE_ID4res,
  nfs4Types,
  nfs_cb_opnum4,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  state_protect_how4,
} from "../../generated/nfs4/index.js";
import type { authsys_parms, rpc_msg } from "../../generated/rpc/index.js";
import {
  accept_stat,
  auth_flavor,
  auth_stat,
  decodeauthsys_parms,
  decoderpc_msg,
  encoderpc_msg,
  msg_type,
  reject_stat,
  reply_stat,
  rpcTypes,
} from "../../generated/rpc/index.js";
import { XdrInterpreter, XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { catchXdr } from "../xdr/expect-xdr-error.js";
import { ascii, bytes, u8, words } from "./hex.js";

// ---------------------------------------------------------------------------
// The harness.

interface Codec<T> {
  /** The XDR type name, for the interpreter. */
  readonly type: string;
  readonly encode: (w: XdrWriter, v: T) => void;
  readonly decode: (r: XdrReader) => T;
}

const interpreter = new XdrInterpreter(nfs4Types, rpcTypes);

/** Registers the encode/decode/interpreter checks of one vector. */
function vector<T>(codec: Codec<T>, value: T, expected: Uint8Array): void {
  it("the generated encoder produces the hand-written bytes", () => {
    const w = new XdrWriter(16);
    codec.encode(w, value);
    expect(words(w.toBytes())).toEqual(words(expected));
  });
  it("the generated decoder reads them back, consuming every byte", () => {
    const r = new XdrReader(expected);
    expect(codec.decode(r)).toEqual(value);
    expect(r.remaining).toBe(0);
  });
  it("the metadata interpreter agrees both ways", () => {
    const w = new XdrWriter(16);
    interpreter.encode(codec.type, w, value);
    expect(words(w.toBytes())).toEqual(words(expected));
    const r = new XdrReader(expected);
    expect(interpreter.decode(codec.type, r)).toEqual(value);
    expect(r.remaining).toBe(0);
  });
}

// ---------------------------------------------------------------------------
// Values shared by several messages.

/**
 * A session ID (sessionid4 = opaque[NFS4_SESSIONID_SIZE = 16]), laid out the
 * way Linux nfsd makes them: the client ID (boot time 0x6553f100, counter 42),
 * a session sequence number 1, and a reserved zero word.
 */
const SESSIONID_HEX = "6553f100 0000002a 00000001 00000000";
/** The session ID's value; on the wire it is the same 16 bytes, fixed length, so no count word. */
const SESSIONID = u8(SESSIONID_HEX);

/** The client ID (clientid4 = uint64_t) that EXCHANGE_ID hands out. */
const CLIENTID = 0x6553f1000000002an;

const T1 = ascii("t1");

/**
 * GETATTR's request bitmap. Attribute n is bit (n mod 32) of word (n div 32):
 *   word 0: FATTR4_TYPE (1) 0x00000002 | FATTR4_CHANGE (3) 0x00000008 |
 *           FATTR4_SIZE (4) 0x00000010 | FATTR4_FSID (8) 0x00000100 |
 *           FATTR4_FILEID (20) 0x00100000                   = 0x0010011a
 *   word 1: FATTR4_MODE (33 → bit 1) 0x00000002 | FATTR4_NUMLINKS (35 → bit 3)
 *           0x00000008 | FATTR4_OWNER (36 → bit 4) 0x00000010 |
 *           FATTR4_OWNER_GROUP (37 → bit 5) 0x00000020 |
 *           FATTR4_TIME_MODIFY (53 → bit 21) 0x00200000      = 0x0020003a
 */
const ATTR_WORDS = [0x0010011a, 0x0020003a];

/** The attribute values of the GETATTR reply, in attribute-number order (RFC 8881 §5.2). */
const ATTR_VALS_HEX = [
  "00000002", // FATTR4_TYPE: nfs_ftype4 NF4DIR (2)
  "00000000 65a1b2c3", // FATTR4_CHANGE: changeid4 (uint64) 0x65a1b2c3
  "00000000 00001000", // FATTR4_SIZE: uint64 4096
  "00000000 00000000", // FATTR4_FSID: fsid4.major (uint64) 0
  "00000000 00000001", // FATTR4_FSID: fsid4.minor (uint64) 1
  "00000000 00000002", // FATTR4_FILEID: uint64 2
  "000001ed", // FATTR4_MODE: mode4 0755 (0x1ed)
  "00000003", // FATTR4_NUMLINKS: uint32 3
  "00000004", // FATTR4_OWNER: utf8str_mixed length 4
  "726f6f74", //   "root" (no padding needed)
  "00000005", // FATTR4_OWNER_GROUP: utf8str_mixed length 5
  "77686565 6c000000", //   "wheel" + 3 zero bytes of padding
  "00000000 6553f100", // FATTR4_TIME_MODIFY: nfstime4.seconds (int64) 1700000000
  "1dcd6500", // FATTR4_TIME_MODIFY: nfstime4.nseconds (uint32) 500000000
]; // 84 bytes in all

/** The Linux client's implementation ID (nfs_impl_id4). */
const IMPL_ID: nfs_impl_id4 = {
  nii_domain: ascii("kernel.org"),
  nii_name: ascii("Linux 6.1.0"),
  nii_date: { seconds: 1700000000n, nseconds: 0 },
};

/** An AUTH_SYS credential body (RFC 5531 Appendix A). */
const AUTHSYS: authsys_parms = {
  stamp: 0x6553f100,
  machinename: "client",
  uid: 0,
  gid: 0,
  gids: [0, 10],
};
/** authsys_parms on the wire: 36 bytes. */
const AUTHSYS_HEX = [
  "6553f100", // stamp
  "00000006", // machinename: string<255> length 6
  "636c6965 6e740000", //   "client" + 2 zero bytes of padding
  "00000000", // uid 0
  "00000000", // gid 0
  "00000002", // gids<16>: count 2
  "00000000", //   gids[0] = 0
  "0000000a", //   gids[1] = 10
];

/** The fore channel's attributes (channel_attrs4) as both sides agree on them. */
const FORE_ATTRS: channel_attrs4 = {
  ca_headerpadsize: 0,
  ca_maxrequestsize: 0x00100400,
  ca_maxresponsesize: 0x00100400,
  ca_maxresponsesize_cached: 0x2000,
  ca_maxoperations: 8,
  ca_maxrequests: 64,
  ca_rdma_ird: [],
};
const FORE_ATTRS_HEX = [
  "00000000", // ca_headerpadsize 0
  "00100400", // ca_maxrequestsize 1049600
  "00100400", // ca_maxresponsesize 1049600
  "00002000", // ca_maxresponsesize_cached 8192
  "00000008", // ca_maxoperations 8
  "00000040", // ca_maxrequests 64
  "00000000", // ca_rdma_ird<1>: count 0
];
const BACK_ATTRS: channel_attrs4 = {
  ca_headerpadsize: 0,
  ca_maxrequestsize: 4096,
  ca_maxresponsesize: 4096,
  ca_maxresponsesize_cached: 0,
  ca_maxoperations: 2,
  ca_maxrequests: 1,
  ca_rdma_ird: [],
};
const BACK_ATTRS_HEX = [
  "00000000", // ca_headerpadsize 0
  "00001000", // ca_maxrequestsize 4096
  "00001000", // ca_maxresponsesize 4096
  "00000000", // ca_maxresponsesize_cached 0
  "00000002", // ca_maxoperations 2
  "00000001", // ca_maxrequests 1
  "00000000", // ca_rdma_ird<1>: count 0
];

// ---------------------------------------------------------------------------
// COMPOUND: SEQUENCE + PUTROOTFH + GETATTR, and its reply.

const COMPOUND_ARGS: COMPOUND4args = {
  tag: T1,
  minorversion: 1,
  argarray: [
    {
      argop: nfs_opnum4.OP_SEQUENCE,
      opsequence: {
        sa_sessionid: SESSIONID,
        sa_sequenceid: 1,
        sa_slotid: 0,
        sa_highest_slotid: 0,
        sa_cachethis: false,
      },
    },
    { argop: nfs_opnum4.OP_PUTROOTFH },
    { argop: nfs_opnum4.OP_GETATTR, opgetattr: { attr_request: ATTR_WORDS } },
  ],
};

const COMPOUND_ARGS_BYTES = bytes(
  /*  0 */ "00000002", // tag: utf8str_cs (opaque<>) length 2
  /*  4 */ "74310000", //   "t1" + 2 zero bytes of padding
  /*  8 */ "00000001", // minorversion 1
  /* 12 */ "00000003", // argarray<>: count 3
  /* 16 */ "00000035", // argarray[0].argop = OP_SEQUENCE (53)
  /* 20 */ SESSIONID_HEX, //   sa_sessionid (opaque[16], no count)
  /* 36 */ "00000001", //   sa_sequenceid 1
  /* 40 */ "00000000", //   sa_slotid 0
  /* 44 */ "00000000", //   sa_highest_slotid 0
  /* 48 */ "00000000", //   sa_cachethis FALSE
  /* 52 */ "00000018", // argarray[1].argop = OP_PUTROOTFH (24), void arm
  /* 56 */ "00000009", // argarray[2].argop = OP_GETATTR (9)
  /* 60 */ "00000002", //   attr_request: bitmap4 (uint32_t<>) count 2
  /* 64 */ "0010011a", //   word 0: type, change, size, fsid, fileid
  /* 68 */ "0020003a", //   word 1: mode, numlinks, owner, owner_group, time_modify
); // 72 bytes

const COMPOUND_RES: COMPOUND4res = {
  status: nfsstat4.NFS4_OK,
  tag: T1,
  resarray: [
    {
      resop: nfs_opnum4.OP_SEQUENCE,
      opsequence: {
        sr_status: nfsstat4.NFS4_OK,
        sr_resok4: {
          sr_sessionid: SESSIONID,
          sr_sequenceid: 1,
          sr_slotid: 0,
          sr_highest_slotid: 63,
          sr_target_highest_slotid: 63,
          sr_status_flags: 0,
        },
      },
    },
    { resop: nfs_opnum4.OP_PUTROOTFH, opputrootfh: { status: nfsstat4.NFS4_OK } },
    {
      resop: nfs_opnum4.OP_GETATTR,
      opgetattr: {
        status: nfsstat4.NFS4_OK,
        resok4: { obj_attributes: { attrmask: ATTR_WORDS, attr_vals: bytes(...ATTR_VALS_HEX) } },
      },
    },
  ],
};

const COMPOUND_RES_BYTES = bytes(
  /*   0 */ "00000000", // status NFS4_OK
  /*   4 */ "00000002", // tag length 2
  /*   8 */ "74310000", //   "t1" + padding
  /*  12 */ "00000003", // resarray<>: count 3
  /*  16 */ "00000035", // resarray[0].resop = OP_SEQUENCE (53)
  /*  20 */ "00000000", //   sr_status NFS4_OK → SEQUENCE4resok
  /*  24 */ SESSIONID_HEX, //   sr_sessionid
  /*  40 */ "00000001", //   sr_sequenceid 1
  /*  44 */ "00000000", //   sr_slotid 0
  /*  48 */ "0000003f", //   sr_highest_slotid 63
  /*  52 */ "0000003f", //   sr_target_highest_slotid 63
  /*  56 */ "00000000", //   sr_status_flags 0
  /*  60 */ "00000018", // resarray[1].resop = OP_PUTROOTFH (24)
  /*  64 */ "00000000", //   PUTROOTFH4res.status NFS4_OK
  /*  68 */ "00000009", // resarray[2].resop = OP_GETATTR (9)
  /*  72 */ "00000000", //   status NFS4_OK → GETATTR4resok
  /*  76 */ "00000002", //   obj_attributes.attrmask: count 2
  /*  80 */ "0010011a", //     word 0
  /*  84 */ "0020003a", //     word 1
  /*  88 */ "00000054", //   obj_attributes.attr_vals: attrlist4 (opaque<>) length 84
  /*  92 */ ...ATTR_VALS_HEX, // the 84 bytes above, already a multiple of 4
); // 176 bytes

describe("COMPOUND4args: SEQUENCE, PUTROOTFH, GETATTR", () => {
  it("the request bitmap is the FATTR4_* bits named in the comments", () => {
    const bit = (n: number): [number, number] => [Math.floor(n / 32), 2 ** (n % 32)];
    const mask = [0, 0];
    for (const n of [
      FATTR4_TYPE,
      FATTR4_CHANGE,
      FATTR4_SIZE,
      FATTR4_FSID,
      FATTR4_FILEID,
      FATTR4_MODE,
      FATTR4_NUMLINKS,
      FATTR4_OWNER,
      FATTR4_OWNER_GROUP,
      FATTR4_TIME_MODIFY,
    ]) {
      const [word, value] = bit(n);
      mask[word]! += value;
    }
    expect(mask).toEqual(ATTR_WORDS);
    expect(COMPOUND_ARGS_BYTES.length).toBe(72);
  });
  vector(
    { type: "COMPOUND4args", encode: encodeCOMPOUND4args, decode: decodeCOMPOUND4args },
    COMPOUND_ARGS,
    COMPOUND_ARGS_BYTES,
  );
});

describe("COMPOUND4res: SEQUENCE4resok, PUTROOTFH, GETATTR with an fattr4", () => {
  vector(
    { type: "COMPOUND4res", encode: encodeCOMPOUND4res, decode: decodeCOMPOUND4res },
    COMPOUND_RES,
    COMPOUND_RES_BYTES,
  );
  it("attr_vals holds the hand-encoded attributes, in bit order", () => {
    expect(COMPOUND_RES_BYTES.length).toBe(176);
    const r = new XdrReader(bytes(...ATTR_VALS_HEX));
    expect(r.remaining).toBe(84);
    expect(decodefattr4_type(r)).toBe(nfs_ftype4.NF4DIR);
    expect(decodefattr4_change(r)).toBe(0x65a1b2c3n);
    expect(decodefattr4_size(r)).toBe(4096n);
    expect(decodefattr4_fsid(r)).toEqual({ major: 0n, minor: 1n });
    expect(decodefattr4_fileid(r)).toBe(2n);
    expect(decodefattr4_mode(r)).toBe(0o755);
    expect(decodefattr4_numlinks(r)).toBe(3);
    expect(decodefattr4_owner(r)).toEqual(ascii("root"));
    expect(decodefattr4_owner_group(r)).toEqual(ascii("wheel"));
    expect(decodefattr4_time_modify(r)).toEqual({ seconds: 1700000000n, nseconds: 500000000 });
    expect(r.remaining).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// EXCHANGE_ID (RFC 8881 §18.35).

const EXCHANGE_ID_ARGS: EXCHANGE_ID4args = {
  eia_clientowner: {
    co_verifier: u8("6553f100 1dcd6500"),
    co_ownerid: ascii("dittofs-client"),
  },
  eia_flags:
    EXCHGID4_FLAG_SUPP_MOVED_REFER |
    EXCHGID4_FLAG_SUPP_MOVED_MIGR |
    EXCHGID4_FLAG_BIND_PRINC_STATEID,
  eia_state_protect: { spa_how: state_protect_how4.SP4_NONE },
  eia_client_impl_id: [IMPL_ID],
};

const IMPL_ID_HEX = [
  "0000000a", // nii_domain: utf8str_cis length 10
  "6b65726e 656c2e6f 72670000", //   "kernel.org" + 2 zero bytes of padding
  "0000000b", // nii_name: utf8str_cs length 11
  "4c696e75 7820362e 312e3000", //   "Linux 6.1.0" + 1 zero byte of padding
  "00000000 6553f100", // nii_date.seconds (int64) 1700000000
  "00000000", // nii_date.nseconds 0
];

const EXCHANGE_ID_ARGS_BYTES = bytes(
  "6553f100 1dcd6500", // eia_clientowner.co_verifier: verifier4 (opaque[8], no count)
  "0000000e", // eia_clientowner.co_ownerid: opaque<1024> length 14
  "64697474 6f66732d 636c6965 6e740000", //   "dittofs-client" + 2 zero bytes of padding
  "00000103", // eia_flags: SUPP_MOVED_REFER 0x1 | SUPP_MOVED_MIGR 0x2 | BIND_PRINC_STATEID 0x100
  "00000000", // eia_state_protect.spa_how = SP4_NONE (0), void arm
  "00000001", // eia_client_impl_id<1>: count 1
  ...IMPL_ID_HEX,
);

const EXCHANGE_ID_RES: EXCHANGE_ID4res = {
  eir_status: nfsstat4.NFS4_OK,
  eir_resok4: {
    eir_clientid: CLIENTID,
    eir_sequenceid: 1,
    // `|` yields a signed int32 (here negative); uint32_t fields need `>>> 0`.
    eir_flags: (EXCHGID4_FLAG_USE_NON_PNFS | EXCHGID4_FLAG_CONFIRMED_R) >>> 0,
    eir_state_protect: { spr_how: state_protect_how4.SP4_NONE },
    eir_server_owner: { so_minor_id: 0n, so_major_id: ascii("dittofs") },
    eir_server_scope: ascii("dittofs"),
    eir_server_impl_id: [],
  },
};

const EXCHANGE_ID_RES_BYTES = bytes(
  "00000000", // eir_status NFS4_OK → EXCHANGE_ID4resok
  "6553f100 0000002a", // eir_clientid (uint64)
  "00000001", // eir_sequenceid 1
  "80010000", // eir_flags: CONFIRMED_R 0x80000000 | USE_NON_PNFS 0x00010000
  "00000000", // eir_state_protect.spr_how = SP4_NONE (0), void arm
  "00000000 00000000", // eir_server_owner.so_minor_id (uint64) 0
  "00000007", // eir_server_owner.so_major_id: opaque<1024> length 7
  "64697474 6f667300", //   "dittofs" + 1 zero byte of padding
  "00000007", // eir_server_scope: opaque<1024> length 7
  "64697474 6f667300", //   "dittofs" + 1 zero byte of padding
  "00000000", // eir_server_impl_id<1>: count 0
);

const EXCHANGE_ID_CODEC: Codec<EXCHANGE_ID4res> = {
  type: "EXCHANGE_ID4res",
  encode: encodeEXCHANGE_ID4res,
  decode: decodeEXCHANGE_ID4res,
};

describe("EXCHANGE_ID4args", () => {
  vector(
    { type: "EXCHANGE_ID4args", encode: encodeEXCHANGE_ID4args, decode: decodeEXCHANGE_ID4args },
    EXCHANGE_ID_ARGS,
    EXCHANGE_ID_ARGS_BYTES,
  );
});

describe("EXCHANGE_ID4res: NFS4_OK", () => {
  vector(EXCHANGE_ID_CODEC, EXCHANGE_ID_RES, EXCHANGE_ID_RES_BYTES);
  it("a flag word with the top bit set must be made unsigned", () => {
    // JS `|` yields a signed int32: 0x80010000 comes out negative, and the
    // encoder refuses it for a uint32_t rather than guess.
    const signed = EXCHGID4_FLAG_USE_NON_PNFS | EXCHGID4_FLAG_CONFIRMED_R;
    expect(signed).toBe(0x80010000 - 2 ** 32);
    expect(signed >>> 0).toBe(0x80010000);
    const bad = structuredClone(EXCHANGE_ID_RES);
    if (bad.eir_status !== nfsstat4.NFS4_OK) throw new Error("unreachable");
    bad.eir_resok4.eir_flags = signed;
    const e = catchXdr(() => encodeEXCHANGE_ID4res(new XdrWriter(), bad));
    expect(e.code).toBe("range");
    expect(e.pathString).toBe("eir_resok4.eir_flags");
    expect(e.offset).toBe(16);
  });
});

describe("EXCHANGE_ID4res: NFS4ERR_CLID_INUSE is the status word alone", () => {
  vector(
    EXCHANGE_ID_CODEC,
    { eir_status: nfsstat4.NFS4ERR_CLID_INUSE },
    bytes("00002721"), // eir_status NFS4ERR_CLID_INUSE (10017), default: void
  );
});

// ---------------------------------------------------------------------------
// CREATE_SESSION (RFC 8881 §18.36).

const CREATE_SESSION_ARGS: CREATE_SESSION4args = {
  csa_clientid: CLIENTID,
  csa_sequence: 1,
  csa_flags: CREATE_SESSION4_FLAG_PERSIST | CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
  csa_fore_chan_attrs: FORE_ATTRS,
  csa_back_chan_attrs: BACK_ATTRS,
  csa_cb_program: 0x40000000,
  csa_sec_parms: [
    { cb_secflavor: auth_flavor.AUTH_SYS, cbsp_sys_cred: AUTHSYS },
    { cb_secflavor: 0 },
  ],
};

const CREATE_SESSION_ARGS_BYTES = bytes(
  "6553f100 0000002a", // csa_clientid (uint64)
  "00000001", // csa_sequence 1
  "00000003", // csa_flags: PERSIST 0x1 | CONN_BACK_CHAN 0x2
  ...FORE_ATTRS_HEX, // csa_fore_chan_attrs
  ...BACK_ATTRS_HEX, // csa_back_chan_attrs
  "40000000", // csa_cb_program 0x40000000
  "00000002", // csa_sec_parms<>: count 2
  "00000001", // csa_sec_parms[0].cb_secflavor = AUTH_SYS (1) → authsys_parms
  ...AUTHSYS_HEX,
  "00000000", // csa_sec_parms[1].cb_secflavor = AUTH_NONE (0), void arm
);

const CREATE_SESSION_RES: CREATE_SESSION4res = {
  csr_status: nfsstat4.NFS4_OK,
  csr_resok4: {
    csr_sessionid: SESSIONID,
    csr_sequence: 1,
    csr_flags: CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
    csr_fore_chan_attrs: FORE_ATTRS,
    csr_back_chan_attrs: BACK_ATTRS,
  },
};

const CREATE_SESSION_RES_BYTES = bytes(
  "00000000", // csr_status NFS4_OK → CREATE_SESSION4resok
  SESSIONID_HEX, // csr_sessionid (opaque[16])
  "00000001", // csr_sequence 1
  "00000002", // csr_flags: CONN_BACK_CHAN 0x2 (PERSIST not granted)
  ...FORE_ATTRS_HEX, // csr_fore_chan_attrs
  ...BACK_ATTRS_HEX, // csr_back_chan_attrs
);

describe("CREATE_SESSION4args: AUTH_SYS and AUTH_NONE callback security", () => {
  vector(
    {
      type: "CREATE_SESSION4args",
      encode: encodeCREATE_SESSION4args,
      decode: decodeCREATE_SESSION4args,
    },
    CREATE_SESSION_ARGS,
    CREATE_SESSION_ARGS_BYTES,
  );
});

describe("CREATE_SESSION4res: NFS4_OK", () => {
  vector(
    {
      type: "CREATE_SESSION4res",
      encode: encodeCREATE_SESSION4res,
      decode: decodeCREATE_SESSION4res,
    },
    CREATE_SESSION_RES,
    CREATE_SESSION_RES_BYTES,
  );
});

// ---------------------------------------------------------------------------
// CB_COMPOUND: CB_SEQUENCE + CB_RECALL (RFC 8881 §20.2, §20.9), and its reply.

const CB_COMPOUND_ARGS: CB_COMPOUND4args = {
  tag: ascii("cb"),
  minorversion: 1,
  callback_ident: 0,
  argarray: [
    {
      argop: nfs_cb_opnum4.OP_CB_SEQUENCE,
      opcbsequence: {
        csa_sessionid: SESSIONID,
        csa_sequenceid: 1,
        csa_slotid: 0,
        csa_highest_slotid: 0,
        csa_cachethis: false,
        csa_referring_call_lists: [],
      },
    },
    {
      argop: nfs_cb_opnum4.OP_CB_RECALL,
      opcbrecall: {
        stateid: { seqid: 1, other: u8("6553f100 0000002a 00000003") },
        truncate: false,
        fh: u8("01000600 2a000000 0700"),
      },
    },
  ],
};

const CB_COMPOUND_ARGS_BYTES = bytes(
  "00000002", // tag length 2
  "63620000", //   "cb" + padding
  "00000001", // minorversion 1
  "00000000", // callback_ident 0 (unused in NFSv4.1)
  "00000002", // argarray<>: count 2
  "0000000b", // argarray[0].argop = OP_CB_SEQUENCE (11)
  SESSIONID_HEX, //   csa_sessionid
  "00000001", //   csa_sequenceid 1
  "00000000", //   csa_slotid 0
  "00000000", //   csa_highest_slotid 0
  "00000000", //   csa_cachethis FALSE
  "00000000", //   csa_referring_call_lists<>: count 0
  "00000004", // argarray[1].argop = OP_CB_RECALL (4)
  "00000001", //   stateid.seqid 1
  "6553f100 0000002a 00000003", //   stateid.other (opaque[12], no count)
  "00000000", //   truncate FALSE
  "0000000a", //   fh: nfs_fh4 (opaque<128>) length 10
  "01000600 2a000000 07000000", //     10 bytes + 2 zero bytes of padding
);

const CB_COMPOUND_RES: CB_COMPOUND4res = {
  status: nfsstat4.NFS4_OK,
  tag: ascii("cb"),
  resarray: [
    {
      resop: nfs_cb_opnum4.OP_CB_SEQUENCE,
      opcbsequence: {
        csr_status: nfsstat4.NFS4_OK,
        csr_resok4: {
          csr_sessionid: SESSIONID,
          csr_sequenceid: 1,
          csr_slotid: 0,
          csr_highest_slotid: 0,
          csr_target_highest_slotid: 0,
        },
      },
    },
    { resop: nfs_cb_opnum4.OP_CB_RECALL, opcbrecall: { status: nfsstat4.NFS4_OK } },
  ],
};

const CB_COMPOUND_RES_BYTES = bytes(
  "00000000", // status NFS4_OK
  "00000002", // tag length 2
  "63620000", //   "cb" + padding
  "00000002", // resarray<>: count 2
  "0000000b", // resarray[0].resop = OP_CB_SEQUENCE (11)
  "00000000", //   csr_status NFS4_OK → CB_SEQUENCE4resok
  SESSIONID_HEX, //   csr_sessionid
  "00000001", //   csr_sequenceid 1
  "00000000", //   csr_slotid 0
  "00000000", //   csr_highest_slotid 0
  "00000000", //   csr_target_highest_slotid 0
  "00000004", // resarray[1].resop = OP_CB_RECALL (4)
  "00000000", //   CB_RECALL4res.status NFS4_OK
);

describe("CB_COMPOUND4args: CB_SEQUENCE, CB_RECALL", () => {
  vector(
    { type: "CB_COMPOUND4args", encode: encodeCB_COMPOUND4args, decode: decodeCB_COMPOUND4args },
    CB_COMPOUND_ARGS,
    CB_COMPOUND_ARGS_BYTES,
  );
});

describe("CB_COMPOUND4res: CB_SEQUENCE4resok, CB_RECALL4res", () => {
  vector(
    { type: "CB_COMPOUND4res", encode: encodeCB_COMPOUND4res, decode: decodeCB_COMPOUND4res },
    CB_COMPOUND_RES,
    CB_COMPOUND_RES_BYTES,
  );
});

// ---------------------------------------------------------------------------
// The ONC RPC message header (RFC 5531 §9).

const RPC: Codec<rpc_msg> = { type: "rpc_msg", encode: encoderpc_msg, decode: decoderpc_msg };
const XID = 0x8a3c5e01;
const NO_AUTH = { flavor: auth_flavor.AUTH_NONE, body: new Uint8Array(0) };

describe("rpc_msg: CALL of NFSPROC4_COMPOUND with AUTH_SYS", () => {
  const body = bytes(...AUTHSYS_HEX);
  const value: rpc_msg = {
    xid: XID,
    body: {
      mtype: msg_type.CALL,
      cbody: {
        rpcvers: 2,
        prog: NFS4_PROGRAM,
        vers: NFS_V4,
        proc: NFSPROC4_COMPOUND,
        cred: { flavor: auth_flavor.AUTH_SYS, body },
        verf: NO_AUTH,
      },
    },
  };
  const expected = bytes(
    "8a3c5e01", // xid
    "00000000", // body.mtype = CALL (0) → call_body
    "00000002", //   rpcvers 2
    "000186a3", //   prog 100003 (NFS4_PROGRAM)
    "00000004", //   vers 4
    "00000001", //   proc 1 (NFSPROC4_COMPOUND)
    "00000001", //   cred.flavor = AUTH_SYS (1)
    "00000024", //   cred.body: opaque<400> length 36, holding an authsys_parms:
    ...AUTHSYS_HEX,
    "00000000", //   verf.flavor = AUTH_NONE (0)
    "00000000", //   verf.body length 0
  ); // 76 bytes; the COMPOUND4args follow
  vector(RPC, value, expected);
  it("the credential body is itself an encoded authsys_parms", () => {
    expect(expected.length).toBe(76);
    const r = new XdrReader(body);
    expect(decodeauthsys_parms(r)).toEqual(AUTHSYS);
    expect(r.remaining).toBe(0);
  });
});

describe("rpc_msg: REPLY, MSG_ACCEPTED, SUCCESS", () => {
  vector(
    RPC,
    {
      xid: XID,
      body: {
        mtype: msg_type.REPLY,
        rbody: {
          stat: reply_stat.MSG_ACCEPTED,
          areply: {
            verf: NO_AUTH,
            reply_data: { stat: accept_stat.SUCCESS, results: new Uint8Array(0) },
          },
        },
      },
    },
    bytes(
      "8a3c5e01", // xid
      "00000001", // body.mtype = REPLY (1) → reply_body
      "00000000", //   stat = MSG_ACCEPTED (0) → accepted_reply
      "00000000", //     verf.flavor = AUTH_NONE
      "00000000", //     verf.body length 0
      "00000000", //     reply_data.stat = SUCCESS (0); results is opaque[0]: no bytes
    ), // the COMPOUND4res follows
  );
});

describe("rpc_msg: REPLY, MSG_ACCEPTED, PROG_MISMATCH and PROC_UNAVAIL", () => {
  describe("PROG_MISMATCH carries the supported range", () => {
    vector(
      RPC,
      {
        xid: XID,
        body: {
          mtype: msg_type.REPLY,
          rbody: {
            stat: reply_stat.MSG_ACCEPTED,
            areply: {
              verf: NO_AUTH,
              reply_data: { stat: accept_stat.PROG_MISMATCH, mismatch_info: { low: 4, high: 4 } },
            },
          },
        },
      },
      bytes(
        "8a3c5e01", // xid
        "00000001", // REPLY
        "00000000", //   MSG_ACCEPTED
        "00000000 00000000", //     verf: AUTH_NONE, empty body
        "00000002", //     reply_data.stat = PROG_MISMATCH (2)
        "00000004", //       mismatch_info.low 4
        "00000004", //       mismatch_info.high 4
      ),
    );
  });
  describe("PROC_UNAVAIL takes the void default arm", () => {
    vector(
      RPC,
      {
        xid: XID,
        body: {
          mtype: msg_type.REPLY,
          rbody: {
            stat: reply_stat.MSG_ACCEPTED,
            areply: { verf: NO_AUTH, reply_data: { stat: accept_stat.PROC_UNAVAIL } },
          },
        },
      },
      bytes(
        "8a3c5e01", // xid
        "00000001", // REPLY
        "00000000", //   MSG_ACCEPTED
        "00000000 00000000", //     verf: AUTH_NONE, empty body
        "00000003", //     reply_data.stat = PROC_UNAVAIL (3), default: void
      ),
    );
  });
});

describe("rpc_msg: REPLY, MSG_DENIED, RPC_MISMATCH", () => {
  vector(
    RPC,
    {
      xid: XID,
      body: {
        mtype: msg_type.REPLY,
        rbody: {
          stat: reply_stat.MSG_DENIED,
          rreply: { stat: reject_stat.RPC_MISMATCH, mismatch_info: { low: 2, high: 2 } },
        },
      },
    },
    bytes(
      "8a3c5e01", // xid
      "00000001", // body.mtype = REPLY (1)
      "00000001", //   stat = MSG_DENIED (1) → rejected_reply
      "00000000", //     stat = RPC_MISMATCH (0)
      "00000002", //       mismatch_info.low 2
      "00000002", //       mismatch_info.high 2
    ),
  );
});

describe("rpc_msg: REPLY, MSG_DENIED, AUTH_ERROR", () => {
  vector(
    RPC,
    {
      xid: XID,
      body: {
        mtype: msg_type.REPLY,
        rbody: {
          stat: reply_stat.MSG_DENIED,
          rreply: { stat: reject_stat.AUTH_ERROR, auth_error: auth_stat.AUTH_TOOWEAK },
        },
      },
    },
    bytes(
      "8a3c5e01", // xid
      "00000001", // body.mtype = REPLY (1)
      "00000001", //   stat = MSG_DENIED (1)
      "00000001", //     stat = AUTH_ERROR (1)
      "00000005", //       auth_error (RFC 5531: "auth_stat stat") = AUTH_TOOWEAK (5)
    ),
  );
});

// ---------------------------------------------------------------------------
// Decode errors: what the server needs to answer a bad request precisely.

describe("decode errors", () => {
  it("an op number that is no op is code 'enum' at path argop (→ NFS4ERR_OP_ILLEGAL)", () => {
    for (const [hex, op] of [
      ["00000002", 2], // 0-2 were never assigned: nfs_opnum4 starts at OP_ACCESS = 3
      ["0001869f", 99999],
    ] as const) {
      const e = catchXdr(() => decodenfs_argop4(new XdrReader(bytes(hex))));
      expect(e.code).toBe("enum");
      expect(e.path).toEqual(["argop"]);
      expect(e.offset).toBe(0);
      expect(e.value).toBe(op);
    }
  });

  it("truncated SEQUENCE args are code 'truncated', distinguishable from a bad op", () => {
    // argop, then only half of the 16-byte session ID.
    const half = catchXdr(() =>
      decodenfs_argop4(new XdrReader(bytes("00000035", "6553f100 0000002a"))),
    );
    expect(half.code).toBe("truncated");
    expect(half.path).toEqual(["opsequence", "sa_sessionid"]);
    expect(half.offset).toBe(4);
    // All of SEQUENCE4args but sa_cachethis.
    const noCachethis = bytes("00000035", SESSIONID_HEX, "00000001", "00000000", "00000000");
    const e = catchXdr(() => decodenfs_argop4(new XdrReader(noCachethis)));
    expect(e.code).toBe("truncated");
    expect(e.pathString).toBe("opsequence.sa_cachethis");
    expect(e.offset).toBe(32);
    // The SEQUENCE4args decoder on its own: the path starts at its fields.
    const direct = catchXdr(() => decodeSEQUENCE4args(new XdrReader(noCachethis, 4)));
    expect(direct.pathString).toBe("sa_cachethis");
    expect(direct.offset).toBe(32);
  });

  it("an unknown op inside a COMPOUND names its index", () => {
    const b = COMPOUND_ARGS_BYTES.slice();
    b.set(bytes("00000002"), 52); // argarray[1].argop: OP_PUTROOTFH → 2
    const e = catchXdr(() => decodeCOMPOUND4args(new XdrReader(b)));
    expect(e.code).toBe("enum");
    expect(e.pathString).toBe("argarray[1].argop");
    expect(e.offset).toBe(52);
    expect(e.value).toBe(2);
  });

  it("a COMPOUND cut inside SEQUENCE's session ID names the field and its offset", () => {
    const e = catchXdr(() => decodeCOMPOUND4args(new XdrReader(COMPOUND_ARGS_BYTES, 0, 30)));
    expect(e.code).toBe("truncated");
    expect(e.pathString).toBe("argarray[0].opsequence.sa_sessionid");
    expect(e.offset).toBe(20);
  });

  it("a COMPOUND cut inside GETATTR's bitmap fails at the bitmap's count word", () => {
    // The reader checks an array's count against the bytes left (each uint32_t
    // element needs 4) before reading any element, so cutting anywhere in the
    // two words fails at the count (byte 60), with the array as the path.
    for (const end of [62, 64, 66, 68, 70]) {
      const e = catchXdr(() => decodeCOMPOUND4args(new XdrReader(COMPOUND_ARGS_BYTES, 0, end)));
      expect(e.code).toBe("truncated");
      expect(e.pathString).toBe("argarray[2].opgetattr.attr_request");
      expect(e.path).toEqual(["argarray", "[2]", "opgetattr", "attr_request"]);
      expect(e.offset).toBe(60);
      expect(e.message).toBe(
        `XDR error at argarray[2].opgetattr.attr_request (byte 60): truncated: ${
          end < 64
            ? `need 4 bytes, ${end - 60} remain`
            : `array of 2 elements needs at least 8 bytes, ${end - 64} remain`
        }`,
      );
    }
  });

  it("a COMPOUND4res cut inside attr_vals fails at the opaque's length word", () => {
    const e = catchXdr(() => decodeCOMPOUND4res(new XdrReader(COMPOUND_RES_BYTES, 0, 100)));
    expect(e.code).toBe("truncated");
    expect(e.pathString).toBe("resarray[2].opgetattr.resok4.obj_attributes.attr_vals");
    expect(e.offset).toBe(88);
  });

  it("trailing bytes after a COMPOUND are left for the caller to reject", () => {
    const b = new Uint8Array(COMPOUND_ARGS_BYTES.length + 4);
    b.set(COMPOUND_ARGS_BYTES);
    const r = new XdrReader(b);
    expect(decodeCOMPOUND4args(r)).toEqual(COMPOUND_ARGS);
    expect(r.remaining).toBe(4);
    expect(catchXdr(() => r.assertDone()).code).toBe("trailing");
  });
});
