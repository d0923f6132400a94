// fattr4_open_arguments (RFC 9754 §3) against OPEN itself: every argument the
// attribute advertises is one OPEN takes, and every claim it leaves out is one
// OPEN answers NFS4ERR_NOTSUPP. A change to either side that the other does not
// follow fails here.

import { beforeEach, describe, expect, it } from "vitest";
import type {
  COMPOUND4res,
  createhow4,
  nfs_argop4,
  open_claim4,
  openflag4,
} from "../../generated/nfs4/index.js";
import {
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS,
  OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION,
  OPEN4_SHARE_DENY_NONE,
  createmode4,
  nfs_opnum4,
  nfsstat4,
  nfsstat4_names,
  open_claim_type4,
  open_delegation_type4,
  opentype4,
} from "../../generated/nfs4/index.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import { OPEN_ARGUMENTS, bitsOf } from "../../src/nfs/attrs/index.js";
import { Harness, sysCred } from "./harness.js";
import { newSession, reclaimCompleteOp, sequenceOp, utf8 } from "./session-helpers.js";

const putroot: nfs_argop4 = { argop: nfs_opnum4.OP_PUTROOTFH };
const lookup = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_LOOKUP,
  oplookup: { objname: utf8(name) },
});
const inExport = [putroot, lookup("export")];
const noAttrs = { attrmask: [], attr_vals: new Uint8Array() };
const verifier = new Uint8Array(8).fill(7);
const zeroStateid = { seqid: 0, other: new Uint8Array(12) };
const nocreate: openflag4 = { opentype: opentype4.OPEN4_NOCREATE };
const unchecked: openflag4 = {
  opentype: opentype4.OPEN4_CREATE,
  how: { mode: createmode4.UNCHECKED4, createattrs: noAttrs },
};

let owners = 0;
function openOp(
  claim: open_claim4,
  openhow: openflag4 = nocreate,
  access: number = OPEN4_SHARE_ACCESS_READ,
  deny: number = OPEN4_SHARE_DENY_NONE,
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: access,
      share_deny: deny,
      owner: { clientid: 0n, owner: utf8(`owner${owners++}`) },
      openhow,
      claim,
    },
  };
}
const byName = (name: string): open_claim4 => ({
  claim: open_claim_type4.CLAIM_NULL,
  file: utf8(name),
});

function statusOf(res: COMPOUND4res): string {
  const s = res.status;
  return nfsstat4_names[s] ?? String(s);
}

let run: (ops: nfs_argop4[]) => Promise<COMPOUND4res>;
beforeEach(async () => {
  const h = new Harness({}, new MemoryFileSystem({ exportMode: 0o777 }));
  const conn = h.conn();
  const cred = sysCred(0, 0);
  const { sessionid } = await newSession(h, conn, "client", cred);
  let seq = 1;
  run = (ops) => h.run([sequenceOp(sessionid, seq++), ...ops], conn, { cred, minorversion: 1 });
  expect((await run([reclaimCompleteOp])).status).toBe(nfsstat4.NFS4_OK);
});

describe("open_arguments matches what OPEN takes", () => {
  it("every advertised share access with every advertised deny", async () => {
    for (const access of bitsOf(OPEN_ARGUMENTS.oa_share_access)) {
      for (const deny of bitsOf(OPEN_ARGUMENTS.oa_share_deny)) {
        const res = await run([
          ...inExport,
          openOp(byName(`f${access}${deny}`), unchecked, access, deny),
        ]);
        expect(statusOf(res), `access ${access}, deny ${deny}`).toBe("NFS4_OK");
      }
    }
  });

  it("every advertised delegation want; DELEG_TIMESTAMPS is accepted as a hint, OPEN_XOR_DELEGATION refused", async () => {
    for (const bit of bitsOf(OPEN_ARGUMENTS.oa_share_access_want)) {
      // The wants below 16 are values of the OPEN4_SHARE_ACCESS_WANT_DELEG_MASK field.
      expect(bit).toBeLessThan(16);
      const access = OPEN4_SHARE_ACCESS_READ | (bit << 8);
      const res = await run([...inExport, openOp(byName(`w${bit}`), unchecked, access)]);
      expect(statusOf(res), `want ${bit}`).toBe("NFS4_OK");
    }
    const hint = await run([
      ...inExport,
      openOp(
        byName("t"),
        unchecked,
        OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS,
      ),
    ]);
    expect(statusOf(hint)).toBe("NFS4_OK");
    const xor = await run([
      ...inExport,
      openOp(
        byName("x"),
        unchecked,
        OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION,
      ),
    ]);
    expect(statusOf(xor)).toBe("NFS4ERR_INVAL");
  });

  it("every advertised create mode", async () => {
    const hows: Record<number, createhow4> = {
      [createmode4.UNCHECKED4]: { mode: createmode4.UNCHECKED4, createattrs: noAttrs },
      [createmode4.GUARDED4]: { mode: createmode4.GUARDED4, createattrs: noAttrs },
      [createmode4.EXCLUSIVE4]: { mode: createmode4.EXCLUSIVE4, createverf: verifier },
      [createmode4.EXCLUSIVE4_1]: {
        mode: createmode4.EXCLUSIVE4_1,
        ch_createboth: { cva_verf: verifier, cva_attrs: noAttrs },
      },
    };
    // The enums of RFC 9754 §3.1 number the create modes as createmode4 does.
    const modes = bitsOf(OPEN_ARGUMENTS.oa_create_mode);
    expect(modes).toEqual([0, 1, 2, 3]);
    for (const mode of modes) {
      const how = hows[mode]!;
      const res = await run([
        ...inExport,
        openOp(byName(`c${mode}`), { opentype: opentype4.OPEN4_CREATE, how }),
      ]);
      expect(statusOf(res), `create mode ${mode}`).toBe("NFS4_OK");
    }
  });

  it("every advertised claim is understood, every other one is NOTSUPP", async () => {
    expect((await run([...inExport, openOp(byName("f"), unchecked)])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    const inFile = [...inExport, lookup("f")];
    // Each claim with the current filehandle it names its file from.
    const claims: Record<number, [nfs_argop4[], open_claim4]> = {
      [open_claim_type4.CLAIM_NULL]: [inExport, byName("f")],
      [open_claim_type4.CLAIM_PREVIOUS]: [
        inFile,
        {
          claim: open_claim_type4.CLAIM_PREVIOUS,
          delegate_type: open_delegation_type4.OPEN_DELEGATE_NONE,
        },
      ],
      [open_claim_type4.CLAIM_DELEGATE_CUR]: [
        inExport,
        {
          claim: open_claim_type4.CLAIM_DELEGATE_CUR,
          delegate_cur_info: { delegate_stateid: zeroStateid, file: utf8("f") },
        },
      ],
      [open_claim_type4.CLAIM_DELEGATE_PREV]: [
        inExport,
        { claim: open_claim_type4.CLAIM_DELEGATE_PREV, file_delegate_prev: utf8("f") },
      ],
      [open_claim_type4.CLAIM_FH]: [inFile, { claim: open_claim_type4.CLAIM_FH }],
      [open_claim_type4.CLAIM_DELEG_CUR_FH]: [
        inFile,
        { claim: open_claim_type4.CLAIM_DELEG_CUR_FH, oc_delegate_stateid: zeroStateid },
      ],
      [open_claim_type4.CLAIM_DELEG_PREV_FH]: [
        inFile,
        { claim: open_claim_type4.CLAIM_DELEG_PREV_FH },
      ],
    };
    const advertised = bitsOf(OPEN_ARGUMENTS.oa_open_claim);
    for (const [type, [before, claim]] of Object.entries(claims)) {
      const status = statusOf(await run([...before, openOp(claim)]));
      if (advertised.includes(Number(type)))
        expect(status, `claim ${type}`).not.toBe("NFS4ERR_NOTSUPP");
      else expect(status, `claim ${type}`).toBe("NFS4ERR_NOTSUPP");
    }
  });
});
