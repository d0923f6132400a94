// The floor under a 1 MiB WRITE or READ in Node.js: the CPU time one process
// spends receiving (or sending) 1 MiB over a loopback TCP socket through
// net.Socket's 'data' events, doing nothing else with the bytes. Whatever a
// server written on Node's streams does with a WRITE comes on top of the
// receive figure. Each side runs in its own process; the figure is the
// measured side's whole CPU time (user + system, /proc via process.cpuUsage)
// over the transfer, divided by the MiB moved. "receive into one buffer" is the
// server's way since rpc.readBufferBytes (src/rpc/read-buffer.ts): the accepted
// socket reads into one reused 256 KiB buffer instead of a new one per read.
//
//   npm run bench:socket-floor [-- --mib 2000]

import { fork } from "node:child_process";
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { adoptWithReadBuffer } from "../../src/rpc/read-buffer.js";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: "2000" },
    role: { type: "string" },
    port: { type: "string" },
  },
  strict: true,
});
const MIB = 1024 * 1024;
const total = Number(values.mib);
if (!Number.isInteger(total) || total < 1) throw new Error("--mib must be a positive integer");

/** Writes `mib` MiB to `s` in 1 MiB writes, honouring back-pressure, then ends it. */
async function send(s: Socket, mib: number): Promise<void> {
  const chunk = Buffer.alloc(MIB, 7);
  for (let i = 0; i < mib; i++) if (!s.write(chunk)) await once(s, "drain");
  s.end();
}

/** Counts what `s` delivers until it ends; resolves with the bytes. */
function receive(s: Socket): Promise<number> {
  let bytes = 0;
  s.on("data", (c: Buffer) => (bytes += c.length));
  return once(s, "end").then(() => bytes);
}

/** Counts what the adopted `accepted` reads into one reused buffer until it ends. */
function receiveIntoBuffer(accepted: Socket): Promise<number> {
  const adopted = adoptWithReadBuffer(accepted, Buffer.allocUnsafeSlow(256 * 1024), false);
  if (adopted === null) throw new Error("this Node.js cannot move an accepted socket's handle");
  let bytes = 0;
  adopted.sink.attach((c) => (bytes += c.length));
  return once(adopted.socket, "end").then(() => bytes);
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

if (values.role === "peer-send" || values.role === "peer-receive") {
  // The other side, in a process of its own.
  const port = Number(values.port);
  const s = connect(port, "127.0.0.1");
  await once(s, "connect");
  if (values.role === "peer-send") await send(s, total);
  else await receive(s);
  process.exit(0);
}

type Side = "receive" | "receive into one buffer" | "send";

async function measure(side: Side): Promise<number> {
  const server = createServer({ pauseOnConnect: side === "receive into one buffer" });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const peer = fork(
    process.argv[1]!,
    [
      "--mib",
      String(total),
      "--role",
      side === "send" ? "peer-receive" : "peer-send",
      "--port",
      String(port),
    ],
    {
      execArgv: process.execArgv,
    },
  );
  const [socket] = (await once(server, "connection")) as [Socket];
  const before = cpuMicros();
  if (side !== "send") {
    if (side === "receive") socket.resume();
    const bytes = await (side === "receive" ? receive(socket) : receiveIntoBuffer(socket));
    if (bytes !== total * MIB) throw new Error(`received ${bytes} bytes`);
  } else {
    await send(socket, total);
    await once(socket, "close");
  }
  const used = cpuMicros() - before;
  await once(peer, "exit");
  server.close();
  return used / total;
}

console.log(`node ${process.version}, ${total} MiB each way over 127.0.0.1`);
for (const side of ["receive", "receive into one buffer", "send"] as const)
  console.log(`${side.padEnd(23)} ${(await measure(side)).toFixed(1)} µs of CPU per MiB`);
