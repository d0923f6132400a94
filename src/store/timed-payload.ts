// A PayloadStore that passes every call to another and times it (the
// metrics endpoint's dfs_store_operation_duration_seconds{store="local"|"s3"}):
// what file contents cost beneath the metadata store, an S3 GET or PUT apart
// from the SQLite or PostgreSQL transaction around it. Installed by
// StoreFileSystem.timePayloads once metrics are on.

import { timeSettled, type LatencyHistograms } from "../stats/latency-histogram.js";
import type { PayloadSpace, PayloadStore } from "./payload.js";

/** The payload calls timed, in row order (ids, space and close are not per request). */
export const PAYLOAD_OPERATIONS = ["read", "write", "truncate", "commit", "delete"] as const;

const READ = 0;
const WRITE = 1;
const TRUNCATE = 2;
const COMMIT = 3;
const DELETE = 4;

export class TimedPayloadStore implements PayloadStore {
  constructor(
    private readonly inner: PayloadStore,
    private readonly latency: LatencyHistograms,
  ) {}

  get kind(): string | undefined {
    return this.inner.kind;
  }

  private timed<T>(op: number, started: number, p: Promise<T>): Promise<T> {
    return timeSettled(this.latency, op, started, p);
  }

  read(id: string, offset: number, count: number): Promise<Uint8Array> {
    return this.timed(READ, performance.now(), this.inner.read(id, offset, count));
  }

  write(id: string, offset: number, data: Uint8Array): Promise<void> {
    return this.timed(WRITE, performance.now(), this.inner.write(id, offset, data));
  }

  truncate(id: string, size: number): Promise<void> {
    return this.timed(TRUNCATE, performance.now(), this.inner.truncate(id, size));
  }

  commit(id: string): Promise<void> {
    return this.timed(COMMIT, performance.now(), this.inner.commit(id));
  }

  delete(id: string): Promise<void> {
    return this.timed(DELETE, performance.now(), this.inner.delete(id));
  }

  ids(): AsyncIterable<string> {
    return this.inner.ids();
  }

  space(): Promise<PayloadSpace> {
    return this.inner.space();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
