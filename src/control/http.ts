// Starting and stopping the control API's and the metrics' HTTP servers.

import type { Server } from "node:http";

/** Listens on a Unix socket path or a TCP host and port; rejects with the listen error. */
export function listenOn(
  server: Server,
  where: string | { readonly host: string; readonly port: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const done = (): void => {
      server.off("error", reject);
      resolve();
    };
    if (typeof where === "string") server.listen(where, done);
    else server.listen(where.port, where.host, done);
  });
}

/** Stops listening and ends every connection, keep-alive ones included. */
export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
