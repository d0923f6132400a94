// The client library's whole-file helpers over TCP (open by path, write,
// truncate, read, close), its NFS4ERR_DELAY retry rule, and the callback
// handler that accepts CB_RECALL — what the kernel delegation interop script
// (test/interop/kernel-delegation.ts) builds on.

import { describe, expect, it } from "vitest";
import type {
  CB_COMPOUND4args,
  CB_RECALL4args,
  nfs_cb_argop4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import {
  CB_COMPOUND,
  NFS4_CALLBACK,
  NFS_CB,
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_READ,
  nfs_cb_opnum4,
  open_delegation_type4,
  why_no_delegation4,
} from "../../generated/nfs4/index.js";
import type { CallbackCallInfo, ClientSession } from "../../src/client/index.js";
import {
  NfsError,
  READ_CHUNK,
  closeFile,
  defaultCallbackHandler,
  openFile,
  readFile,
  recallingCallbackHandler,
  retryOnDelay,
  truncateFile,
  writeFile,
} from "../../src/client/index.js";
import { ST, establishReady, useServer } from "./support.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();

describe("whole-file helpers", () => {
  const srv = useServer();

  /** A session past RECLAIM_COMPLETE, so it may OPEN (RFC 8881 §18.51.3). */
  async function ready(): Promise<ClientSession> {
    return (await establishReady(srv.port)).session;
  }

  it("create, write, read back, truncate and overwrite, close", async () => {
    const session = await ready();
    const f = await openFile(session, "/export/helpers-a", {
      access: OPEN4_SHARE_ACCESS_BOTH,
      create: true,
    });
    expect(f.delays).toBe(0);
    // WANT_NO_DELEG by default: no delegation, whatever the server's policy (§18.16.3).
    expect(f.delegation).toEqual({
      delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE_EXT,
      od_whynone: { ond_why: why_no_delegation4.WND4_NOT_WANTED },
    });
    await writeFile(session, f, utf8.encode("first, longer content"));
    expect(text.decode(await readFile(session, f))).toBe("first, longer content");
    await truncateFile(session, f);
    await writeFile(session, f, utf8.encode("second"));
    expect(text.decode(await readFile(session, f))).toBe("second");
    await closeFile(session, f);

    const again = await openFile(session, "/export/helpers-a", { access: OPEN4_SHARE_ACCESS_READ });
    expect(text.decode(await readFile(session, again))).toBe("second");
    await closeFile(session, again);
  });

  it("reads and writes files larger than one READ or WRITE", async () => {
    const session = await ready();
    const data = new Uint8Array(READ_CHUNK * 3 + 123).map((_, i) => (i * 7) & 0xff);
    const f = await openFile(session, "export/helpers-big", {
      access: OPEN4_SHARE_ACCESS_BOTH,
      create: true,
    });
    await writeFile(session, f, data);
    expect(Buffer.from(await readFile(session, f)).equals(Buffer.from(data))).toBe(true);
    await closeFile(session, f);
  });

  it("a missing file without create is an NfsError with the server's status", async () => {
    const session = await ready();
    const err = await openFile(session, "/export/no-such-file", {
      access: OPEN4_SHARE_ACCESS_READ,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NfsError);
    expect((err as NfsError).status).toBe(ST.NFS4ERR_NOENT);
  });
});

describe("retryOnDelay", () => {
  const replies = (statuses: nfsstat4[]): (() => Promise<{ status: nfsstat4 }>) => {
    let i = 0;
    return () => Promise.resolve({ status: statuses[Math.min(i++, statuses.length - 1)]! });
  };

  it("retries DELAY with doubling waits up to the cap, and counts the DELAYs", async () => {
    const waits: number[] = [];
    const send = replies([...Array<nfsstat4>(5).fill(ST.NFS4ERR_DELAY), ST.NFS4_OK]);
    const r = await retryOnDelay(send, { initialMs: 10, maxMs: 50, totalMs: 10_000 }, (ms) => {
      waits.push(ms);
      return Promise.resolve();
    });
    expect(r.reply.status).toBe(ST.NFS4_OK);
    expect(r.delays).toBe(5);
    expect(waits).toEqual([10, 20, 40, 50, 50]);
  });

  it("returns other errors at once", async () => {
    const r = await retryOnDelay(replies([ST.NFS4ERR_NOENT]), undefined, () => {
      throw new Error("must not wait");
    });
    expect(r).toEqual({ reply: { status: ST.NFS4ERR_NOENT }, delays: 0 });
  });

  it("gives up with NFS4ERR_DELAY once the waits add up to totalMs", async () => {
    const waits: number[] = [];
    const err = await retryOnDelay(
      replies([ST.NFS4ERR_DELAY]),
      { initialMs: 10, maxMs: 40, totalMs: 100 },
      (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NfsError);
    expect((err as NfsError).status).toBe(ST.NFS4ERR_DELAY);
    expect(waits).toEqual([10, 20, 40, 30]);
  });
});

describe("callback handlers", () => {
  const sequence: nfs_cb_argop4 = {
    argop: nfs_cb_opnum4.OP_CB_SEQUENCE,
    opcbsequence: {
      csa_sessionid: new Uint8Array(16).fill(7),
      csa_sequenceid: 3,
      csa_slotid: 0,
      csa_highest_slotid: 0,
      csa_cachethis: false,
      csa_referring_call_lists: [],
    },
  };
  const recallOp = (other: Uint8Array, fh: Uint8Array): nfs_cb_argop4 => ({
    argop: nfs_cb_opnum4.OP_CB_RECALL,
    opcbrecall: { stateid: { seqid: 1, other }, truncate: false, fh },
  });
  const compound = (argarray: CB_COMPOUND4args["argarray"]): CB_COMPOUND4args => ({
    tag: new Uint8Array(0),
    minorversion: 1,
    callback_ident: 0,
    argarray,
  });
  const info: CallbackCallInfo = {
    prog: NFS4_CALLBACK,
    vers: NFS_CB,
    proc: CB_COMPOUND,
    cred: { flavor: 0, uid: 65534, gid: 65534, gids: [], machinename: "", principal: "none" },
  };

  it("recallingCallbackHandler accepts CB_RECALL and hands the listener a copy", async () => {
    const other = new Uint8Array(12).fill(1);
    const fh = new Uint8Array([9, 9, 9]);
    const heard = new Promise<CB_RECALL4args>((resolve) => {
      const handler = recallingCallbackHandler(resolve);
      const res = handler(compound([sequence, recallOp(other, fh)]), info);
      expect(res).toMatchObject({
        status: ST.NFS4_OK,
        resarray: [
          { resop: nfs_cb_opnum4.OP_CB_SEQUENCE, opcbsequence: { csr_status: ST.NFS4_OK } },
          { resop: nfs_cb_opnum4.OP_CB_RECALL, opcbrecall: { status: ST.NFS4_OK } },
        ],
      });
    });
    // The request's buffers change after the reply (a pooled receive buffer would).
    other.fill(0);
    fh.fill(0);
    const recall = await heard;
    expect(recall.stateid).toEqual({ seqid: 1, other: new Uint8Array(12).fill(1) });
    expect(recall.fh).toEqual(new Uint8Array([9, 9, 9]));
  });

  it("the default handler still refuses CB_RECALL", async () => {
    const res = await defaultCallbackHandler(
      compound([sequence, recallOp(new Uint8Array(12), new Uint8Array(1))]),
      info,
    );
    expect(res?.status).toBe(ST.NFS4ERR_NOTSUPP);
    expect(res?.resarray).toHaveLength(2);
  });
});
