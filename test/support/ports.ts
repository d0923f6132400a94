// A free TCP port on loopback for a service a test starts (PostgreSQL,
// radosgw): the kernel picks one, and it is closed again for the service to
// take. Another process could take it in between; none does on a test machine.

import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() =>
        typeof a === "object" && a !== null ? resolve(a.port) : reject(new Error("no port")),
      );
    });
  });
}
