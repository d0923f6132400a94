// What a small file's payload costs the SQLite store's LocalPayloadStore
// (src/store/local-payload.ts) with its small work on the event loop's thread
// (`store.inlineIoMaxBytes`, the default) and with everything on libuv's
// thread pool (`inlineIoMaxBytes` 0): per file, the first WRITE (open with
// O_CREAT, the write), a READ of it, and the delete of its object (close,
// unlink) — what a churn step of `dfsctl bench` does to the payload. The
// figure is this process's whole CPU time (user + system, all threads,
// process.cpuUsage) and wall time per file; the modes alternate each round.
//
//   npm run bench:payload-io [-- --files 5000 --rounds 3 --bytes 4096 --dir /var/tmp]

import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { LocalPayloadStore } from "../../src/store/local-payload.js";
import { DEFAULT_STORE_SETTINGS } from "../../src/store/settings.js";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "5000" },
    rounds: { type: "string", default: "3" },
    bytes: { type: "string", default: "4096" },
    dir: { type: "string", default: "/var/tmp" },
  },
  strict: true,
});
const files = Number(values.files);
const rounds = Number(values.rounds);
const bytes = Number(values.bytes);
for (const [name, n] of [
  ["--files", files],
  ["--rounds", rounds],
  ["--bytes", bytes],
] as const)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);

const MODES = [
  { name: "in place", inlineIoMaxBytes: DEFAULT_STORE_SETTINGS.inlineIoMaxBytes },
  { name: "thread pool", inlineIoMaxBytes: 0 },
] as const;

/** CPU and wall µs per file of `files` write + read + delete cycles in a fresh directory. */
async function measure(inlineIoMaxBytes: number): Promise<{ cpu: number; wall: number }> {
  const dir = mkdtempSync(join(values.dir, "dfs-payload-io-"));
  const store = new LocalPayloadStore(
    dir,
    DEFAULT_STORE_SETTINGS.maxOpenPayloads,
    inlineIoMaxBytes,
  );
  const data = new Uint8Array(bytes).fill(7);
  try {
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let i = 0; i < files; i++) {
      const id = `f${i}`;
      await store.write(id, 0, data);
      const got = await store.read(id, 0, bytes);
      if (got.length !== bytes) throw new Error(`read ${got.length} of ${bytes} bytes`);
      await store.delete(id);
    }
    const cpu = process.cpuUsage(cpu0);
    return {
      cpu: (cpu.user + cpu.system) / files,
      wall: ((performance.now() - wall0) * 1000) / files,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `node ${process.version}, ${files} files of ${bytes} bytes per run in ${values.dir}; ` +
    `in place: at most ${DEFAULT_STORE_SETTINGS.inlineIoMaxBytes} bytes`,
);
console.log("| round | mode | CPU µs/file | wall µs/file |\n|--:|---|--:|--:|");
for (let round = 1; round <= rounds; round++) {
  // Alternate which mode goes first, so drift in the machine hits both alike.
  const order = round % 2 === 1 ? MODES : [...MODES].reverse();
  for (const mode of order) {
    const { cpu, wall } = await measure(mode.inlineIoMaxBytes);
    console.log(`| ${round} | ${mode.name} | ${cpu.toFixed(1)} | ${wall.toFixed(1)} |`);
  }
}
