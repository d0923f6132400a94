// Our calls to the peer on its own connection (the NFSv4.1 backchannel), mixed
// with our replies to its calls on the same socket.

import { describe, expect, it } from "vitest";
import {
  accept_stat,
  auth_flavor,
  decodeauthsys_parms,
  msg_type,
  reply_stat,
} from "../../generated/rpc/index.js";
import type { RpcConnection } from "../../src/rpc/index.js";
import {
  AUTH_NONE_OUTGOING,
  RpcConnectionClosedError,
  RpcReplyError,
  RpcTimeoutError,
  authSysCredential,
} from "../../src/rpc/index.js";
import { XdrReader } from "../../src/xdr/index.js";
import type { RawClient, Received } from "./support.js";
import {
  EMPTY,
  client,
  deferred,
  framed,
  replyBytes,
  startServer,
  testProgram,
  until,
  words,
} from "./support.js";

const CB_PROG = 0x40000000;

/** Replies SUCCESS to a CALL received from the server. */
function answer(c: RawClient, call: Received, results: Uint8Array): void {
  c.send(
    framed(
      replyBytes(
        {
          xid: call.msg.xid,
          body: {
            mtype: msg_type.REPLY,
            rbody: {
              stat: reply_stat.MSG_ACCEPTED,
              areply: {
                verf: { flavor: auth_flavor.AUTH_NONE, body: EMPTY },
                reply_data: { stat: accept_stat.SUCCESS, results: EMPTY },
              },
            },
          },
        },
        results,
      ),
    ),
  );
}

/** A server whose connections the test can reach, and a client connected to it. */
async function setup() {
  const { server, port } = await startServer([
    testProgram(async () => ({ kind: "success", result: words(1) })),
  ]);
  const conns: RpcConnection[] = [];
  server.on("connection", (conn) => conns.push(conn));
  const c = await client(port);
  await until(() => conns.length === 1, "the server to accept");
  return { server, c, conn: conns[0]! };
}

describe("backchannel calls", () => {
  it("sends a CALL on the peer's connection and resolves with the reply's results", async () => {
    const { c, conn } = await setup();
    const cred = authSysCredential({ machinename: "server", uid: 0, gid: 0 });
    const pending = conn.call({
      prog: CB_PROG,
      vers: 1,
      proc: 1,
      cred,
      args: words(7, 8),
      timeoutMs: 10_000,
    });
    const call = await c.nextCall();
    const body = call.msg.body;
    if (body.mtype !== msg_type.CALL) throw new Error("expected a CALL");
    expect(body.cbody).toMatchObject({ rpcvers: 2, prog: CB_PROG, vers: 1, proc: 1 });
    expect(body.cbody.cred.flavor).toBe(auth_flavor.AUTH_SYS);
    expect(decodeauthsys_parms(new XdrReader(body.cbody.cred.body))).toMatchObject({
      machinename: "server",
      uid: 0,
      gids: [],
    });
    expect(body.cbody.verf.flavor).toBe(auth_flavor.AUTH_NONE);
    expect(call.rest.readUint()).toBe(7);
    expect(call.rest.readUint()).toBe(8);
    answer(c, call, words(99, 100));
    const results = await pending;
    expect(results.readUint()).toBe(99);
    expect(results.readUint()).toBe(100);
    expect(results.remaining).toBe(0);
  });

  it("multiplexes with the peer's own calls and matches replies by xid", async () => {
    const { c, conn } = await setup();
    const first = conn.call({
      prog: CB_PROG,
      vers: 1,
      proc: 1,
      cred: AUTH_NONE_OUTGOING,
      args: EMPTY,
      timeoutMs: 10_000,
    });
    const second = conn.call({
      prog: CB_PROG,
      vers: 1,
      proc: 2,
      cred: AUTH_NONE_OUTGOING,
      args: EMPTY,
      timeoutMs: 10_000,
    });
    const [a, b] = [await c.nextCall(), await c.nextCall()];
    expect(a.msg.xid).not.toBe(b.msg.xid);
    // Our call in the middle of the backchannel traffic.
    const fore = c.call({ xid: a.msg.xid, proc: 1 });
    answer(c, b, words(2));
    answer(c, a, words(1));
    expect((await first).readUint()).toBe(1);
    expect((await second).readUint()).toBe(2);
    expect((await fore).rest.readUint()).toBe(1);
  });

  it("ignores a REPLY that matches no pending call", async () => {
    const { c, conn } = await setup();
    const pending = conn.call({
      prog: CB_PROG,
      vers: 1,
      proc: 1,
      cred: AUTH_NONE_OUTGOING,
      args: EMPTY,
      timeoutMs: 10_000,
    });
    const call = await c.nextCall();
    answer(c, { ...call, msg: { ...call.msg, xid: (call.msg.xid + 1) >>> 0 } }, words(5));
    // The connection still works, and the real reply still settles the call.
    await c.call({ xid: 1, proc: 0 });
    answer(c, call, words(6));
    expect((await pending).readUint()).toBe(6);
    expect(conn.open).toBe(true);
  });

  it("rejects with RpcReplyError when the peer does not answer SUCCESS", async () => {
    const { c, conn } = await setup();
    const pending = conn.call({
      prog: CB_PROG,
      vers: 1,
      proc: 1,
      cred: AUTH_NONE_OUTGOING,
      args: EMPTY,
      timeoutMs: 10_000,
    });
    const call = await c.nextCall();
    c.send(
      framed(
        replyBytes({
          xid: call.msg.xid,
          body: {
            mtype: msg_type.REPLY,
            rbody: {
              stat: reply_stat.MSG_ACCEPTED,
              areply: {
                verf: { flavor: auth_flavor.AUTH_NONE, body: EMPTY },
                reply_data: { stat: accept_stat.PROG_UNAVAIL },
              },
            },
          },
        }),
      ),
    );
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcReplyError);
    expect((err as Error).message).toMatch(/PROG_UNAVAIL/);
  });

  it("rejects with RpcTimeoutError when no reply comes in time", async () => {
    const { c, conn } = await setup();
    const pending = conn.call({
      prog: CB_PROG,
      vers: 1,
      proc: 1,
      cred: AUTH_NONE_OUTGOING,
      args: EMPTY,
      timeoutMs: 20,
    });
    await c.nextCall();
    await expect(pending).rejects.toBeInstanceOf(RpcTimeoutError);
    // A late reply is then just ignored.
    expect(conn.open).toBe(true);
  });

  it("rejects pending calls when the connection closes, and new calls at once", async () => {
    const { c, conn, server } = await setup();
    const closed = deferred();
    conn.onClose(() => closed.resolve());
    const serverSaw = deferred<RpcConnection>();
    server.on("close", (x) => serverSaw.resolve(x));
    const pending = conn.call({
      prog: CB_PROG,
      vers: 1,
      proc: 1,
      cred: AUTH_NONE_OUTGOING,
      args: EMPTY,
      timeoutMs: 60_000,
    });
    await c.nextCall();
    c.close();
    await expect(pending).rejects.toBeInstanceOf(RpcConnectionClosedError);
    await closed.promise;
    expect(await serverSaw.promise).toBe(conn);
    expect(conn.open).toBe(false);
    await expect(
      conn.call({
        prog: CB_PROG,
        vers: 1,
        proc: 1,
        cred: AUTH_NONE_OUTGOING,
        args: EMPTY,
        timeoutMs: 1000,
      }),
    ).rejects.toBeInstanceOf(RpcConnectionClosedError);
    // onClose on a closed connection runs the listener at once.
    let ran = false;
    conn.onClose(() => (ran = true));
    expect(ran).toBe(true);
  });

  it("rejects a call whose credential cannot be encoded", async () => {
    const { conn } = await setup();
    await expect(
      conn.call({
        prog: CB_PROG,
        vers: 1,
        proc: 1,
        cred: { flavor: 1234, body: EMPTY },
        args: EMPTY,
        timeoutMs: 1000,
      }),
    ).rejects.toThrow(/auth_flavor/);
    await expect(
      conn.call({
        prog: CB_PROG,
        vers: 1,
        proc: 1,
        cred: AUTH_NONE_OUTGOING,
        args: EMPTY,
        timeoutMs: 0,
      }),
    ).rejects.toBeInstanceOf(RangeError);
  });
});
