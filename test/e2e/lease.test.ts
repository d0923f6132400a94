// Leases over TCP (RFC 8881 §8.3): every SEQUENCE renews the client's lease;
// a client that stops renewing loses its client ID and sessions, and can start
// over with EXCHANGE_ID. No timing decides a verdict: real-time expiry is
// awaited by polling, and "renewing keeps it alive" runs on an injected clock.

import { describe, expect, it } from "vitest";
import { ops } from "../../src/client/index.js";
import { ST, establish, expectAlive, until, useServer } from "./support.js";

describe("with a one-second lease, in real time", () => {
  const running = useServer({ settings: { leaseTimeSec: 1 } });

  it("a client that stops renewing loses its session (BADSESSION) and can start over", async () => {
    const { client, session } = await establish(running.port);
    await expectAlive(session);
    // Polled on the server's side: any SEQUENCE of ours would renew the lease.
    await until(
      () => running.server.state.session(session.id) === undefined,
      "the lease to expire",
      20_000,
    );
    const { res } = await client.compound([
      ops.sequence({
        sa_sessionid: session.id,
        sa_sequenceid: session.slots.peek(0).seqid,
        sa_slotid: 0,
        sa_highest_slotid: 0,
        sa_cachethis: false,
      }),
    ]);
    expect(res.status).toBe(ST.NFS4ERR_BADSESSION);
    // Through the session API the same status comes back, and the slot is left alone.
    const viaSession = await session.sequenceOnly();
    expect(viaSession.status).toBe(ST.NFS4ERR_BADSESSION);
    // Starting over: the old client ID is gone, so a new one is issued.
    const old = session.clientid;
    const eid = await client.exchangeId(`again-${old}`);
    expect(eid.eir_clientid).not.toBe(old);
    await expectAlive(await client.createSession());
  });
});

describe("with a one-second lease, on an injected clock", () => {
  const clock = { now: Date.now() };
  const running = useServer(() => ({ settings: { leaseTimeSec: 1 }, now: () => clock.now }));

  it("a client that renews keeps its session however long it runs; then stops and loses it", async () => {
    const { session } = await establish(running.port);
    const { session: idle } = await establish(running.port);
    // Ten lease periods pass, with a SEQUENCE every 0.6 s of server time.
    for (let i = 0; i < 16; i++) {
      clock.now += 600;
      await expectAlive(session);
    }
    // Give the server's lease sweep a chance to run at this clock reading.
    await until(
      () => running.server.state.session(idle.id) === undefined,
      "the idle client to expire",
    );
    expect(running.server.state.session(session.id)).toBeDefined();
    await expectAlive(session);
    // Now this one stops too.
    clock.now += 1500;
    await until(
      () => running.server.state.session(session.id) === undefined,
      "the lease to expire",
    );
    expect((await session.sequenceOnly()).status).toBe(ST.NFS4ERR_BADSESSION);
  });
});
