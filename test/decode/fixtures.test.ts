// The decoder on real captures (test/decode/fixtures/README.md): the Linux
// kernel client against this server (NFSv4.1 and 4.2, with delegations and
// callbacks) and against NFS-Ganesha, and a whole pynfs `all` run.

import { describe, expect, it } from "vitest";
import { capturePackets } from "../../src/decode/capture-file.js";
import { recordJson, recordText } from "../../src/decode/format.js";
import { LINKTYPE_LINUX_SLL2 } from "../../src/decode/packet.js";
import { FIXTURE_PORTS, decodeAll, fixture } from "./support.js";
import type { Collected } from "./support.js";

const decoded = new Map<string, Collected>();
function run(name: string): Collected {
  let c = decoded.get(name);
  if (c === undefined) {
    c = decodeAll(fixture(name), { port: FIXTURE_PORTS[name]! });
    decoded.set(name, c);
  }
  return c;
}

const opsOf = (c: Collected): Set<string> =>
  new Set(c.records.flatMap((r) => r.compound?.ops.map((o) => o.name) ?? []));

describe.each(Object.keys(FIXTURE_PORTS))("%s", (name) => {
  it("decodes every record, with every call answered", () => {
    const { summary, records, notices } = run(name);
    expect(summary.problems).toEqual([]);
    expect(notices).toEqual([]);
    expect(summary).toMatchObject({
      undecoded: 0,
      incomplete: 0,
      unmatched: 0,
      unanswered: 0,
      lostBytes: 0,
      skippedBytes: 0,
    });
    expect(summary.calls).toBeGreaterThan(50);
    expect(summary.replies).toBe(summary.calls);
    expect(summary.decoded + summary.rejected).toBe(summary.calls + summary.replies);
    expect(records.filter((r) => r.verdict === "undecoded")).toEqual([]);
  });

  it("prints every record as text and as JSON", () => {
    for (const r of run(name).records) {
      const text = recordText(r, 0);
      expect(text.length).toBeGreaterThan(0);
      // Every attribute value decoded too (display.ts shows the rest as undecoded=/trailing=).
      expect(text.join("\n")).not.toMatch(/ (undecoded|trailing)=/);
      expect(JSON.parse(recordJson(r))).toMatchObject({ type: r.type, conn: r.conn });
    }
  });
});

describe.each(["kdeleg41.pcap.gz", "kdeleg42.pcap.gz"])(
  "kernel client with delegations: %s",
  (name) => {
    const minor = name.includes("42") ? 2 : 1;

    it("shows the kernel's session: EXCHANGE_ID, CREATE_SESSION, SEQUENCE with slot and seqid", () => {
      const c = run(name);
      const kernel = c.records.find(
        (r) => r.type === "call" && recordJson(r).includes('"nii_domain":"kernel.org"'),
      );
      expect(kernel?.compound?.minorversion).toBe(minor);
      const seq = c.records.find(
        (r) => r.type === "call" && r.conn === kernel!.conn && r.slot !== undefined,
      )!;
      expect(seq.session).toMatch(/^[0-9a-f]{32}$/);
      expect(seq.seqid).toBeGreaterThan(0);
      expect(recordText(seq, 0)[0]).toMatch(
        /COMPOUND v4\.[12] session=[0-9a-f]{32} slot=\d+ seqid=\d+/,
      );
    });

    it("decodes the CB_RECALLs sent on the back channel and their replies", () => {
      const c = run(name);
      const recalls = c.records.filter(
        (r) => r.type === "call" && r.compound?.ops.some((o) => o.name === "CB_RECALL"),
      );
      expect(recalls.length).toBeGreaterThanOrEqual(3);
      for (const call of recalls) {
        expect(call).toMatchObject({
          channel: "back",
          procedure: "CB_COMPOUND",
          verdict: "decoded",
        });
        expect(call.compound!.ops[0]!.name).toBe("CB_SEQUENCE");
        const reply = c.records.find(
          (r) => r.type === "reply" && r.conn === call.conn && r.xid === call.xid,
        );
        expect(reply).toMatchObject({ channel: "back", rpcStatus: "SUCCESS" });
        expect(reply!.compound!.ops.map((o) => o.name)).toEqual(["CB_SEQUENCE", "CB_RECALL"]);
      }
      const text = recordText(recalls[0]!, 0).join("\n");
      expect(text).toMatch(
        /CB_RECALL stateid=\{seqid=\d+ other=[0-9a-f]{24}\} truncate=false fh=[0-9a-f]+/,
      );
      expect(opsOf(c)).toContain("DELEGRETURN");
      expect(c.records.some((r) => r.procedure === "CB_NULL")).toBe(true);
    });

    it("names errors: the host's OPEN is answered NFS4ERR_DELAY while a delegation is recalled", () => {
      const c = run(name);
      const delayed = c.records.filter(
        (r) => r.type === "reply" && r.compound?.status === "NFS4ERR_DELAY",
      );
      expect(delayed.length).toBeGreaterThan(0);
      expect(delayed[0]!.compound!.ops.at(-1)).toMatchObject({
        name: "OPEN",
        status: "NFS4ERR_DELAY",
      });
      expect(recordText(delayed[0]!, 0)[0]).toContain("COMPOUND NFS4ERR_DELAY");
    });
  },
);

describe("kernel client against NFS-Ganesha", () => {
  it("decodes the workload, a missing file's NFS4ERR_NOENT included", () => {
    for (const name of ["ganesha41.pcap.gz", "ganesha42.pcap.gz"]) {
      const c = run(name);
      const ops = opsOf(c);
      for (const op of ["OPEN", "WRITE", "READ", "READDIR", "RENAME", "CREATE", "REMOVE", "CLOSE"])
        expect(ops, `${name}: ${op}`).toContain(op);
      expect(
        c.records.some((r) =>
          r.compound?.ops.some((o) => o.name === "LOOKUP" && o.status === "NFS4ERR_NOENT"),
        ),
      ).toBe(true);
    }
  });
});

describe("pynfs all", () => {
  it("decodes everything valid, and reports the six deliberately bad calls as rejected", () => {
    const c = run("pynfs.pcap.gz");
    expect(c.summary).toMatchObject({ calls: 12170, replies: 12170, rejected: 6, undecoded: 0 });
    const bad = c.records.filter((r) => r.type === "call" && r.error !== undefined);
    expect(bad).toHaveLength(6);
    for (const call of bad) {
      const reply = c.records.find(
        (r) => r.type === "reply" && r.conn === call.conn && r.xid === call.xid,
      )!;
      expect(reply.rejectsCall).toBe(true);
      expect(["NFS4ERR_BADXDR", "NFS4ERR_OP_ILLEGAL"]).toContain(reply.compound?.status);
    }
    expect(bad.map((r) => (r.error ?? "").replace(/ \(byte \d+\)/, ""))).toContain(
      "argarray[0]: XDR error at opexchange_id.eia_client_impl_id: limit: array length 2 exceeds maximum 1",
    );
  });
});

describe("tcpdump -i any", () => {
  it("is a Linux cooked capture (SLL2), decoded like the Ethernet ones", () => {
    const [first] = capturePackets(fixture("pynfs-sll2.pcap.gz"), () => {});
    expect(first!.linkType).toBe(LINKTYPE_LINUX_SLL2);
    expect(run("pynfs-sll2.pcap.gz").summary).toMatchObject({
      calls: 53,
      replies: 53,
      decoded: 106,
    });
  });
});
