// The pipeline on synthetic captures: call/reply matching, the back channel,
// reordered and repeated segments, verdicts on records that do not decode, filters.

import { describe, expect, it } from "vitest";
import { nfs_cb_opnum4, nfs_opnum4, nfsstat4 } from "../../generated/nfs4/index.js";
import { matches } from "../../src/decode/filter.js";
import { recordJson, recordText } from "../../src/decode/format.js";
import {
  SESSION,
  SESSION_HEX,
  callRecord,
  cbCompoundArgs,
  compoundArgs,
  compoundRes,
  conversation,
  decodeAll,
  garbageArgsRecord,
  pcapFile,
  replyRecord,
  sampleExchange,
  tcpFrame,
} from "./support.js";

const file = (frames: readonly Uint8Array[]): Uint8Array =>
  pcapFile(frames.map((data) => ({ data })));

describe("decodeCapture", () => {
  it("decodes a COMPOUND call and its reply, with session, slot, seqid and status names", () => {
    const { records, summary } = decodeAll(file(conversation([sampleExchange(0x42)])));
    expect(summary).toMatchObject({
      calls: 1,
      replies: 1,
      decoded: 2,
      undecoded: 0,
      connections: 1,
    });
    const [call, reply] = records;
    expect(call).toMatchObject({
      type: "call",
      xid: 0x42,
      channel: "fore",
      procedure: "COMPOUND",
      src: "10.0.0.1:876",
      dst: "10.0.0.2:2049",
      session: SESSION_HEX,
      slot: 3,
      seqid: 7,
      verdict: "decoded",
    });
    expect(call!.compound!.ops.map((o) => o.name)).toEqual(["SEQUENCE", "PUTROOTFH", "GETFH"]);
    expect(reply).toMatchObject({
      type: "reply",
      xid: 0x42,
      rpcStatus: "SUCCESS",
      slot: 3,
      seqid: 7,
    });
    expect(reply!.compound!.status).toBe("NFS4ERR_DELAY");
    expect(reply!.compound!.ops.map((o) => [o.name, o.status])).toEqual([
      ["SEQUENCE", "NFS4_OK"],
      ["PUTROOTFH", "NFS4_OK"],
      ["GETFH", "NFS4ERR_DELAY"],
    ]);
    expect(reply!.latency).toBeCloseTo(0.001, 6);
    const text = recordText(reply!, call!.time);
    expect(text[0]).toBe(
      `0.001000 #1 10.0.0.2:2049 -> 10.0.0.1:876 REPLY xid=0x00000042 COMPOUND NFS4ERR_DELAY session=${SESSION_HEX} slot=3 seqid=7 tag="t" (1.000 ms)`,
    );
    expect(text[3]).toBe("    GETFH NFS4ERR_DELAY");
    const json = JSON.parse(recordJson(call!)) as Record<string, unknown>;
    expect(json).toMatchObject({ type: "call", xid: "0x00000042", session: SESSION_HEX, slot: 3 });
  });

  it("decodes callbacks the server sends on the same connection, and the client's replies", () => {
    const cbCall = callRecord(
      7,
      0x40000000,
      1,
      1,
      cbCompoundArgs({
        tag: new Uint8Array(0),
        minorversion: 1,
        callback_ident: 0,
        argarray: [
          {
            argop: nfs_cb_opnum4.OP_CB_SEQUENCE,
            opcbsequence: {
              csa_sessionid: SESSION,
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
              stateid: { seqid: 1, other: new Uint8Array(12).fill(1) },
              truncate: false,
              fh: new Uint8Array([1, 2, 3]),
            },
          },
        ],
      }),
    );
    const cbReply = replyRecord(7, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    const frames = [
      tcpFrame({ fromClient: true, seq: 0, syn: true }),
      tcpFrame({ fromClient: false, seq: 0, syn: true }),
      tcpFrame({ fromClient: false, seq: 1, payload: cbCall }),
      tcpFrame({ fromClient: true, seq: 1, payload: cbReply }),
    ];
    const { records, summary } = decodeAll(file(frames));
    expect(summary).toMatchObject({ calls: 1, replies: 1, undecoded: 0 });
    expect(records[0]).toMatchObject({
      type: "call",
      channel: "back",
      procedure: "CB_COMPOUND",
      session: SESSION_HEX,
      slot: 0,
      seqid: 1,
    });
    expect(records[0]!.compound!.ops[1]).toEqual({
      name: "CB_RECALL",
      value: { stateid: { seqid: 1, other: "01".repeat(12) }, truncate: false, fh: "010203" },
    });
    expect(records[1]).toMatchObject({ type: "reply", channel: "back", procedure: "CB_COMPOUND" });
    expect(records[1]!.compound).toMatchObject({ status: "NFS4_OK", ops: [] });
  });

  it("gives the same records whatever the segments' order and repetitions", () => {
    const frames = conversation([sampleExchange(1), sampleExchange(2)]);
    const expected = decodeAll(file(frames)).records.map((r) => [r.type, r.xid, r.verdict]);
    // Split the client's first call into two segments, send them reversed and twice.
    const call = sampleExchange(1).call;
    const shuffled = [
      frames[0]!,
      frames[1]!,
      tcpFrame({ fromClient: true, seq: 1001 + 20, payload: call.subarray(20) }),
      tcpFrame({ fromClient: true, seq: 1001, payload: call.subarray(0, 30) }),
      tcpFrame({ fromClient: true, seq: 1001, payload: call.subarray(0, 20) }),
      ...frames.slice(3),
      frames[4]!,
    ];
    const { records, summary } = decodeAll(file(shuffled));
    expect(records.map((r) => [r.type, r.xid, r.verdict])).toEqual(expected);
    expect(summary).toMatchObject({ undecoded: 0, incomplete: 0, lostBytes: 0 });
  });

  it("counts a call that does not decode as rejected when the server refused it, undecoded otherwise", () => {
    const bad = Buffer.from(
      callRecord(5, 100003, 4, 1, compoundArgs([{ argop: nfs_opnum4.OP_PUTROOTFH }])),
    );
    bad.writeUInt32BE(99, bad.length - 4); // operation 99 does not exist
    const refused = decodeAll(file(conversation([{ call: bad, reply: garbageArgsRecord(5) }])));
    expect(refused.summary).toMatchObject({
      calls: 1,
      replies: 1,
      rejected: 1,
      undecoded: 0,
      decoded: 1,
    });
    expect(refused.records[0]!.error).toMatch(
      /argarray\[0\].*99 is not a member of enum nfs_opnum4/,
    );
    expect(refused.records[1]).toMatchObject({ rpcStatus: "GARBAGE_ARGS", rejectsCall: true });
    const ok = compoundRes({ status: nfsstat4.NFS4_OK, tag: new Uint8Array(0), resarray: [] });
    const accepted = decodeAll(file(conversation([{ call: bad, reply: replyRecord(5, ok) }])));
    expect(accepted.summary).toMatchObject({ rejected: 0, undecoded: 1 });
  });

  it("decodes a reply whose call was not captured by its channel's program", () => {
    const { reply } = sampleExchange(3);
    const frames = [tcpFrame({ fromClient: false, seq: 100, payload: reply })];
    const { records, summary } = decodeAll(file(frames));
    expect(summary).toMatchObject({ replies: 1, unmatched: 1, undecoded: 0 });
    expect(records[0]).toMatchObject({ unmatched: true, procedure: "COMPOUND", slot: 3 });
  });

  it("reports records with bytes missing from the capture as incomplete", () => {
    const frames = conversation([sampleExchange(1), sampleExchange(2)]);
    const cut = frames[2]!;
    const f = pcapFile(
      frames.map((data, i) =>
        i === 2 ? { data: cut.subarray(0, cut.length - 10), originalLength: cut.length } : { data },
      ),
    );
    const { summary, notices } = decodeAll(f);
    expect(summary).toMatchObject({
      incomplete: 1,
      lostBytes: 10,
      calls: 1,
      replies: 2,
      unmatched: 1,
    });
    expect(notices.map((n) => n.message)).toContain(
      `10.0.0.1:876: a record of ${sampleExchange(1).call.length - 4} bytes, 10 of them not captured`,
    );
  });

  it("closes a connection on FIN from both sides; the ACKs that trail it open nothing", () => {
    const { call, reply } = sampleExchange(1);
    const frames = [
      ...conversation([{ call, reply }]),
      tcpFrame({ fromClient: true, seq: 1001 + call.length, fin: true }),
      tcpFrame({ fromClient: false, seq: 5001 + reply.length, fin: true }),
      tcpFrame({ fromClient: true, seq: 1002 + call.length }),
      // The same ports again: a new connection.
      ...conversation([sampleExchange(2)], { client: 77, server: 99 }),
    ];
    const { records, summary } = decodeAll(file(frames));
    expect(summary).toMatchObject({ connections: 2, calls: 2, replies: 2, undecoded: 0 });
    expect(records.map((r) => [r.conn, r.xid])).toEqual([
      [1, 1],
      [1, 1],
      [2, 2],
      [2, 2],
    ]);
  });

  it("ignores other ports unless told the server's port", () => {
    const frames = conversation([sampleExchange(1)]).map((_, i) =>
      tcpFrame({
        ...[
          { fromClient: true, seq: 0, syn: true },
          { fromClient: false, seq: 0, syn: true },
        ][Math.min(i, 1)]!,
        serverPort: 20490,
      }),
    );
    expect(decodeAll(file(frames)).summary).toMatchObject({ segments: 0, otherFrames: 4 });
    expect(decodeAll(file(frames), { port: 20490 }).summary).toMatchObject({
      segments: 4,
      connections: 1,
    });
  });
});

describe("filters", () => {
  const { records } = decodeAll(file(conversation([sampleExchange(1)])));
  const [call, reply] = records;

  it("match by session, by operation (the call's too, for a reply) and by client", () => {
    const none = { clients: [], sessions: [], ops: [] };
    expect(matches(call!, { ...none, sessions: [SESSION_HEX.toUpperCase()] })).toBe(true);
    expect(matches(call!, { ...none, sessions: ["00"] })).toBe(false);
    expect(matches(reply!, { ...none, ops: ["op_getfh"] })).toBe(true);
    expect(matches(reply!, { ...none, ops: ["OPEN"] })).toBe(false);
    expect(matches(call!, { ...none, ops: ["OPEN", "PUTROOTFH"] })).toBe(true);
    expect(matches(call!, { ...none, clients: ["1"] })).toBe(false);
    expect(
      matches({ ...call!, clients: ["0000000000000001"] }, { ...none, clients: ["0x1"] }),
    ).toBe(true);
  });
});
