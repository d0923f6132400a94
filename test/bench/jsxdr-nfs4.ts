// The slice of NFSv4.1 (spec/nfs4.x, RFC 5662/7863) that the codec benchmark
// needs, written in @stellar/js-xdr's config DSL: SEQUENCE, PUTFH, WRITE,
// READDIR (entry4 as the RFC's linked list through an option) and GETATTR args
// and results, nfs_argop4/nfs_resop4 restricted to those arms, and
// COMPOUND4args/res. Every declaration follows spec/nfs4.x field for field, so
// js-xdr's encoding of a message is byte-identical to the generated codec's
// (codec.bench.ts and identity.test.ts check it).

import * as jsXdrModule from "@stellar/js-xdr";
import type {
  JsXdr,
  XdrEnumClass,
  XdrStructClass,
  XdrUnionClass,
  XdrReader as JsXdrReader,
  XdrWriter as JsXdrWriter,
} from "@stellar/js-xdr";

/** The package's exports, whichever way the CommonJS bundle was loaded. */
const jsXdr: JsXdr = typeof jsXdrModule.config === "function" ? jsXdrModule : jsXdrModule.default;

const UNBOUNDED = 0xffffffff;

const types = jsXdr.config((xdr) => {
  // Constants (spec/nfs4.x).
  const NFS4_FHSIZE = 128;
  const NFS4_VERIFIER_SIZE = 8;
  const NFS4_SESSIONID_SIZE = 16;
  const NFS4_OTHER_SIZE = 12;

  // Only the members the benchmark uses: js-xdr checks enum values on read and
  // write with a table lookup whose cost does not depend on the member count.
  xdr.enum("nfsstat4", {
    NFS4_OK: 0,
    NFS4ERR_PERM: 1,
    NFS4ERR_NOENT: 2,
    NFS4ERR_IO: 5,
    NFS4ERR_ACCESS: 13,
    NFS4ERR_BADXDR: 10036,
  });
  xdr.enum("nfs_opnum4", {
    OP_GETATTR: 9,
    OP_PUTFH: 22,
    OP_READDIR: 26,
    OP_WRITE: 38,
    OP_SEQUENCE: 53,
  });
  xdr.enum("stable_how4", { UNSTABLE4: 0, DATA_SYNC4: 1, FILE_SYNC4: 2 });

  // Typedefs.
  xdr.typedef("attrlist4", xdr.varOpaque(UNBOUNDED));
  xdr.typedef("bitmap4", xdr.varArray(xdr.uint(), UNBOUNDED));
  xdr.typedef("count4", xdr.uint());
  xdr.typedef("nfs_cookie4", xdr.uhyper());
  xdr.typedef("nfs_fh4", xdr.varOpaque(NFS4_FHSIZE));
  xdr.typedef("offset4", xdr.uhyper());
  xdr.typedef("sequenceid4", xdr.uint());
  xdr.typedef("sessionid4", xdr.opaque(NFS4_SESSIONID_SIZE));
  xdr.typedef("slotid4", xdr.uint());
  xdr.typedef("utf8string", xdr.varOpaque(UNBOUNDED));
  xdr.typedef("utf8str_cs", xdr.lookup("utf8string"));
  xdr.typedef("component4", xdr.lookup("utf8str_cs"));
  xdr.typedef("verifier4", xdr.opaque(NFS4_VERIFIER_SIZE));

  xdr.struct("stateid4", [
    ["seqid", xdr.uint()],
    ["other", xdr.opaque(NFS4_OTHER_SIZE)],
  ]);
  xdr.struct("fattr4", [
    ["attrmask", xdr.lookup("bitmap4")],
    ["attr_vals", xdr.lookup("attrlist4")],
  ]);

  // SEQUENCE (RFC 8881 §18.46).
  xdr.struct("SEQUENCE4args", [
    ["sa_sessionid", xdr.lookup("sessionid4")],
    ["sa_sequenceid", xdr.lookup("sequenceid4")],
    ["sa_slotid", xdr.lookup("slotid4")],
    ["sa_highest_slotid", xdr.lookup("slotid4")],
    ["sa_cachethis", xdr.bool()],
  ]);
  xdr.struct("SEQUENCE4resok", [
    ["sr_sessionid", xdr.lookup("sessionid4")],
    ["sr_sequenceid", xdr.lookup("sequenceid4")],
    ["sr_slotid", xdr.lookup("slotid4")],
    ["sr_highest_slotid", xdr.lookup("slotid4")],
    ["sr_target_highest_slotid", xdr.lookup("slotid4")],
    ["sr_status_flags", xdr.uint()],
  ]);
  xdr.union("SEQUENCE4res", {
    switchOn: xdr.lookup("nfsstat4"),
    switches: [["NFS4_OK", "sr_resok4"]],
    arms: { sr_resok4: xdr.lookup("SEQUENCE4resok") },
    defaultArm: xdr.void(),
  });

  // PUTFH (§18.19).
  xdr.struct("PUTFH4args", [["object", xdr.lookup("nfs_fh4")]]);
  xdr.struct("PUTFH4res", [["status", xdr.lookup("nfsstat4")]]);

  // WRITE (§18.32).
  xdr.struct("WRITE4args", [
    ["stateid", xdr.lookup("stateid4")],
    ["offset", xdr.lookup("offset4")],
    ["stable", xdr.lookup("stable_how4")],
    ["data", xdr.varOpaque(UNBOUNDED)],
  ]);
  xdr.struct("WRITE4resok", [
    ["count", xdr.lookup("count4")],
    ["committed", xdr.lookup("stable_how4")],
    ["writeverf", xdr.lookup("verifier4")],
  ]);
  xdr.union("WRITE4res", {
    switchOn: xdr.lookup("nfsstat4"),
    switches: [["NFS4_OK", "resok4"]],
    arms: { resok4: xdr.lookup("WRITE4resok") },
    defaultArm: xdr.void(),
  });

  // READDIR (§18.23): entry4 is a linked list through `entry4 *nextentry`.
  xdr.struct("READDIR4args", [
    ["cookie", xdr.lookup("nfs_cookie4")],
    ["cookieverf", xdr.lookup("verifier4")],
    ["dircount", xdr.lookup("count4")],
    ["maxcount", xdr.lookup("count4")],
    ["attr_request", xdr.lookup("bitmap4")],
  ]);
  xdr.struct("entry4", [
    ["cookie", xdr.lookup("nfs_cookie4")],
    ["name", xdr.lookup("component4")],
    ["attrs", xdr.lookup("fattr4")],
    ["nextentry", xdr.option(xdr.lookup("entry4"))],
  ]);
  xdr.struct("dirlist4", [
    ["entries", xdr.option(xdr.lookup("entry4"))],
    ["eof", xdr.bool()],
  ]);
  xdr.struct("READDIR4resok", [
    ["cookieverf", xdr.lookup("verifier4")],
    ["reply", xdr.lookup("dirlist4")],
  ]);
  xdr.union("READDIR4res", {
    switchOn: xdr.lookup("nfsstat4"),
    switches: [["NFS4_OK", "resok4"]],
    arms: { resok4: xdr.lookup("READDIR4resok") },
    defaultArm: xdr.void(),
  });

  // GETATTR (§18.7).
  xdr.struct("GETATTR4args", [["attr_request", xdr.lookup("bitmap4")]]);
  xdr.struct("GETATTR4resok", [["obj_attributes", xdr.lookup("fattr4")]]);
  xdr.union("GETATTR4res", {
    switchOn: xdr.lookup("nfsstat4"),
    switches: [["NFS4_OK", "resok4"]],
    arms: { resok4: xdr.lookup("GETATTR4resok") },
    defaultArm: xdr.void(),
  });

  // COMPOUND (§16.2), the operation unions restricted to the arms above.
  xdr.union("nfs_argop4", {
    switchOn: xdr.lookup("nfs_opnum4"),
    switches: [
      ["OP_GETATTR", "opgetattr"],
      ["OP_PUTFH", "opputfh"],
      ["OP_READDIR", "opreaddir"],
      ["OP_WRITE", "opwrite"],
      ["OP_SEQUENCE", "opsequence"],
    ],
    arms: {
      opgetattr: xdr.lookup("GETATTR4args"),
      opputfh: xdr.lookup("PUTFH4args"),
      opreaddir: xdr.lookup("READDIR4args"),
      opwrite: xdr.lookup("WRITE4args"),
      opsequence: xdr.lookup("SEQUENCE4args"),
    },
  });
  xdr.union("nfs_resop4", {
    switchOn: xdr.lookup("nfs_opnum4"),
    switches: [
      ["OP_GETATTR", "opgetattr"],
      ["OP_PUTFH", "opputfh"],
      ["OP_READDIR", "opreaddir"],
      ["OP_WRITE", "opwrite"],
      ["OP_SEQUENCE", "opsequence"],
    ],
    arms: {
      opgetattr: xdr.lookup("GETATTR4res"),
      opputfh: xdr.lookup("PUTFH4res"),
      opreaddir: xdr.lookup("READDIR4res"),
      opwrite: xdr.lookup("WRITE4res"),
      opsequence: xdr.lookup("SEQUENCE4res"),
    },
  });
  xdr.struct("COMPOUND4args", [
    ["tag", xdr.lookup("utf8str_cs")],
    ["minorversion", xdr.uint()],
    ["argarray", xdr.varArray(xdr.lookup("nfs_argop4"), UNBOUNDED)],
  ]);
  xdr.struct("COMPOUND4res", [
    ["status", xdr.lookup("nfsstat4")],
    ["tag", xdr.lookup("utf8str_cs")],
    ["resarray", xdr.varArray(xdr.lookup("nfs_resop4"), UNBOUNDED)],
  ]);
});

function structType(name: string): XdrStructClass {
  const t = types[name];
  if (typeof t !== "function") throw new Error(`js-xdr: ${name} is not defined`);
  return t as XdrStructClass;
}

function unionType(name: string): XdrUnionClass {
  return structType(name) as unknown as XdrUnionClass;
}

function enumType(name: string): XdrEnumClass {
  return structType(name) as unknown as XdrEnumClass;
}

/** The js-xdr classes the benchmark builds values with. */
export const J = {
  nfsstat4: enumType("nfsstat4"),
  nfs_opnum4: enumType("nfs_opnum4"),
  stable_how4: enumType("stable_how4"),
  stateid4: structType("stateid4"),
  fattr4: structType("fattr4"),
  SEQUENCE4args: structType("SEQUENCE4args"),
  SEQUENCE4resok: structType("SEQUENCE4resok"),
  SEQUENCE4res: unionType("SEQUENCE4res"),
  PUTFH4args: structType("PUTFH4args"),
  PUTFH4res: structType("PUTFH4res"),
  WRITE4args: structType("WRITE4args"),
  READDIR4args: structType("READDIR4args"),
  entry4: structType("entry4"),
  dirlist4: structType("dirlist4"),
  READDIR4resok: structType("READDIR4resok"),
  READDIR4res: unionType("READDIR4res"),
  GETATTR4args: structType("GETATTR4args"),
  GETATTR4resok: structType("GETATTR4resok"),
  GETATTR4res: unionType("GETATTR4res"),
  nfs_argop4: unionType("nfs_argop4"),
  nfs_resop4: unionType("nfs_resop4"),
  COMPOUND4args: structType("COMPOUND4args"),
  COMPOUND4res: structType("COMPOUND4res"),
};

export { jsXdr };
export type { JsXdrReader, JsXdrWriter };
