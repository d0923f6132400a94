// Trunking across addresses (RFC 8881 §2.10.5): a server listening on several
// addresses answers EXCHANGE_ID with the same server_owner and server_scope on
// each, and a session created through one address can be used over a
// connection to another.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import { NfsClient, ops } from "../../src/client/index.js";
import { NfsServer } from "../../src/nfs/server.js";

describe("one server on two addresses", () => {
  let server: NfsServer;
  let ports: number[];
  const clients: NfsClient[] = [];
  beforeAll(async () => {
    server = new NfsServer();
    // 127.0.0.2 is loopback too on Linux: two addresses of this machine.
    const bound = await server.listen([
      { host: "127.0.0.1", port: 0 },
      { host: "127.0.0.2", port: 0 },
    ]);
    ports = bound.map((b) => b.port);
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await server.close();
  });
  const connect = async (host: string, port: number): Promise<NfsClient> => {
    const c = await NfsClient.connect({ host, port });
    clients.push(c);
    return c;
  };

  it("gives the same server_owner and server_scope on both", async () => {
    const a = await connect("127.0.0.1", ports[0]!);
    const b = await connect("127.0.0.2", ports[1]!);
    const ra = await a.exchangeId("trunk-a");
    const rb = await b.exchangeId("trunk-b");
    expect(rb.eir_server_owner).toEqual(ra.eir_server_owner);
    expect(rb.eir_server_scope).toEqual(ra.eir_server_scope);
  });

  it("serves a session created on one address over a connection to the other", async () => {
    const a = await connect("127.0.0.1", ports[0]!);
    await a.exchangeId("trunk-session");
    const session = await a.createSession();
    expect((await session.sequenceOnly()).status).toBe(nfsstat4.NFS4_OK);
    // A second client object only for its connection to the other address.
    const b = await connect("127.0.0.2", ports[1]!);
    const seq = (seqid: number) =>
      b.compound([
        ops.sequence({
          sa_sessionid: session.id,
          sa_sequenceid: seqid,
          sa_slotid: 1,
          sa_highest_slotid: 1,
          sa_cachethis: false,
        }),
      ]);
    expect((await seq(1)).res.status).toBe(nfsstat4.NFS4_OK);
    expect((await seq(2)).res.status).toBe(nfsstat4.NFS4_OK);
    const state = server.state.session(session.id);
    expect(state?.connections.size).toBe(2);
    // …and the first address still works for the same session.
    expect((await session.sequenceOnly()).status).toBe(nfsstat4.NFS4_OK);
  });
});
