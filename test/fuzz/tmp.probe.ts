import { pino } from "pino";
import { NfsServer } from "../../src/nfs/server.js";
import { Fuzzer, statusName } from "./driver.js";
import { nfs_opnum4_names } from "../../generated/nfs4/index.js";
const errors: string[] = [];
const logger = pino({ level: "error" }, { write: (s: string) => void errors.push(s) });
const server = new NfsServer({ logger });
const [b] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
const s = await new Fuzzer({
  port: b!.port,
  seed: Number(process.argv[2]),
  records: Number(process.argv[3]),
}).run();
console.log(s.records, s.failures.length, [...s.serverFaults]);
const d = new Map<string, number>();
for (const x of server.compound.disallowed) {
  const k = `${(nfs_opnum4_names as Record<number, string>)[x.op]} ${statusName(x.status)}`;
  d.set(k, (d.get(k) ?? 0) + 1);
}
console.log(d, errors.length, errors.slice(0, 3));
await server.close();
