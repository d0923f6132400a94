// Clean shutdown over TCP: server.close() answers the request it is running
// before it closes the connection, then refuses new connections.

import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { ops, resultOf } from "../../src/client/index.js";
import { GatedFileSystem, OP, ST, establish, startServer, until } from "./support.js";

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      // Accepted by the kernel: the server must then close it at once.
      s.once("close", () => resolve(true));
      s.resume();
    });
    s.once("error", () => resolve(true));
  });
}

describe("server.close()", () => {
  it("answers a request in flight, then closes and refuses new connections", async () => {
    const fs = new GatedFileSystem();
    const { server, port } = await startServer({ fs });
    try {
      const { session } = await establish(port);
      // PUTROOTFH must be served for this test to hold a request in flight.
      expect((await session.compound([ops.putrootfh()])).status).toBe(ST.NFS4_OK);

      fs.close();
      const inFlight = session.compound([ops.putrootfh(), ops.lookup("export"), ops.getfh()], {
        cachethis: true,
      });
      await until(() => fs.arrived === 1, "the request to reach the backend");
      const closing = server.close();
      // close() waits for the request: let it finish now.
      fs.release();
      const reply = await inFlight;
      expect(reply.status).toBe(ST.NFS4_OK);
      expect(resultOf(reply.resarray[2], OP.OP_GETFH)?.status).toBe(ST.NFS4_OK);
      await closing;
      expect(server.rpc.connections.size).toBe(0);
      expect(await refused(port)).toBe(true);
      // The client sees its connection gone: a new request fails rather than hangs.
      await expect(session.sequenceOnly()).rejects.toThrow();
    } finally {
      await server.close();
    }
  });
});
