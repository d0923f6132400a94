// Several calls in flight on one connection, replies in completion order, and the
// flow control that bounds them.

import { describe, expect, it } from "vitest";
import { accept_stat, msg_type, reply_stat } from "../../generated/rpc/index.js";
import type { RpcOutcome } from "../../src/rpc/index.js";
import { callBytes, client, deferred, framed, startServer, testProgram, words } from "./support.js";
import type { Received } from "./support.js";

function successResults(r: Received): number {
  const b = r.msg.body;
  if (b.mtype !== msg_type.REPLY || b.rbody.stat !== reply_stat.MSG_ACCEPTED)
    throw new Error("not accepted");
  expect(b.rbody.areply.reply_data.stat).toBe(accept_stat.SUCCESS);
  return r.rest.readUint();
}

describe("pipelining", () => {
  it("answers 50 calls sent back to back, completed in reverse order", async () => {
    const N = 50;
    const waiting: { arg: number; done: (o: RpcOutcome) => void }[] = [];
    const { port } = await startServer([
      testProgram(
        (call) =>
          new Promise<RpcOutcome>((done) => {
            waiting.push({ arg: call.args.readUint(), done });
            // Once all are in, complete them last-first (from a later macrotask, so
            // that every call is already being awaited by the server).
            if (waiting.length === N) {
              setImmediate(() => {
                for (const w of [...waiting].reverse()) {
                  w.done({ kind: "success", result: words(w.arg * 2) });
                }
              });
            }
          }),
      ),
    ]);
    const c = await client(port);
    const xids = Array.from({ length: N }, (_, i) => 1000 + i);
    const replies = xids.map((x) => c.reply(x));
    // One write holding all 50 records.
    c.send(
      Buffer.concat(xids.map((x, i) => framed(callBytes({ xid: x, proc: 1, args: words(i) })))),
    );
    const got = await Promise.all(replies);
    got.forEach((r, i) => {
      expect(r.msg.xid).toBe(xids[i]);
      expect(successResults(r)).toBe(i * 2);
    });
    expect(c.replyOrder).toEqual([...xids].reverse());
  });

  it("answers calls in completion order, a slow one not holding back the others", async () => {
    const slow = deferred();
    const { port } = await startServer([
      testProgram(async (call) => {
        if (call.proc === 2) await slow.promise;
        return { kind: "success", result: words(call.proc) };
      }),
    ]);
    const c = await client(port);
    const first = c.reply(1);
    c.sendCall({ xid: 1, proc: 2 });
    expect(successResults(await c.call({ xid: 2, proc: 1 }))).toBe(1);
    slow.resolve();
    expect(successResults(await first)).toBe(2);
    expect(c.replyOrder).toEqual([2, 1]);
  });

  it("never runs more than maxInFlightPerConnection calls of one connection at once", async () => {
    const LIMIT = 4;
    const N = 40;
    let running = 0;
    let maxRunning = 0;
    const { port } = await startServer(
      [
        testProgram(async (call) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          // Let the event loop read more from the socket while this call runs.
          await new Promise((r) => setTimeout(r, 1));
          running--;
          return { kind: "success", result: words(call.xid) };
        }),
      ],
      { maxInFlightPerConnection: LIMIT },
    );
    const c = await client(port);
    const xids = Array.from({ length: N }, (_, i) => i + 1);
    const replies = xids.map((x) => c.reply(x));
    c.send(Buffer.concat(xids.map((x) => framed(callBytes({ xid: x, proc: 1 })))));
    const got = await Promise.all(replies);
    expect(got.map((r) => successResults(r))).toEqual(xids);
    expect(maxRunning).toBe(LIMIT);
  });

  it("stops reading while a peer does not read its replies (backpressure)", async () => {
    const N = 100;
    // One 1 MiB result shared by every reply: the test measures the server's
    // reading, not its memory.
    const big = new Uint8Array(1 << 20);
    let handled = 0;
    const { port } = await startServer(
      [
        testProgram(async () => {
          handled++;
          return { kind: "success", result: big };
        }),
      ],
      // Output beyond the threshold stops reading; the calls already in flight
      // still complete, so the bound is threshold + in-flight limit × reply size.
      { maxConnectionOutputBytes: 64 * 1024, maxInFlightPerConnection: 4 },
    );
    const c = await client(port);
    c.socket.pause();
    c.send(
      Buffer.concat(Array.from({ length: N }, (_, i) => framed(callBytes({ xid: i, proc: 1 })))),
    );
    // Wait until the server has stopped making progress.
    let last = -1;
    let stable = 0;
    while (stable < 10) {
      await new Promise((r) => setTimeout(r, 20));
      stable = handled === last ? stable + 1 : 0;
      last = handled;
    }
    // Unbounded, all 100 (100 MiB of replies) would have been handled. Bounded,
    // only what fits the kernel's socket buffers plus our threshold was.
    expect(handled).toBeLessThan(N / 2);
    c.socket.resume();
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => c.reply(i)));
    expect(replies).toHaveLength(N);
    expect(handled).toBe(N);
    for (const r of replies) expect(r.rest.remaining).toBe(1 << 20);
  });

  it("keeps connections independent: a stalled one does not delay another", async () => {
    const stall = deferred();
    const { port } = await startServer(
      [
        testProgram(async (call) => {
          if (call.proc === 2) await stall.promise;
          return { kind: "success", result: new Uint8Array(0) };
        }),
      ],
      { maxInFlightPerConnection: 1 },
    );
    const a = await client(port);
    const b = await client(port);
    a.sendCall({ xid: 1, proc: 2 });
    a.sendCall({ xid: 2, proc: 1 });
    await b.call({ xid: 3, proc: 1 });
    expect(a.replyOrder).toEqual([]);
    stall.resolve();
    await Promise.all([a.reply(1), a.reply(2)]);
    expect(a.replyOrder).toEqual([1, 2]);
  });
});
