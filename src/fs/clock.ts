// Wall-clock time with nanosecond resolution for file timestamps. Date.now()
// only has milliseconds, which would let two quick modifications share an
// mtime; anchoring the monotonic high-resolution clock to the wall clock once
// gives distinct, increasing stamps (the wall clock's later steps are ignored,
// as they would be by a kernel's monotonic-derived timestamps between syncs).

import type { FsTime } from "./backend.js";

const NS_PER_SECOND = 1_000_000_000n;

const anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** The current time. */
export function now(): FsTime {
  return fromNanoseconds(anchorNs + process.hrtime.bigint());
}

/** A time from nanoseconds since the epoch (negative values are before 1970). */
export function fromNanoseconds(ns: bigint): FsTime {
  let seconds = ns / NS_PER_SECOND;
  let rest = ns % NS_PER_SECOND;
  if (rest < 0n) {
    // nfstime4 keeps nseconds non-negative: -0.5 s is { seconds: -1, nseconds: 5e8 }.
    seconds -= 1n;
    rest += NS_PER_SECOND;
  }
  return { seconds, nseconds: Number(rest) };
}

/** Nanoseconds since the epoch. */
export function toNanoseconds(t: FsTime): bigint {
  return t.seconds * NS_PER_SECOND + BigInt(t.nseconds);
}
