// Helpers for the tests of the file operations (CREATE, LINK, REMOVE, RENAME,
// …): checking a status together with RFC 8881 §15.2's list for the
// operation, and building fattr4 values.

import { expect } from "vitest";
import {
  FATTR4_MODE,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_SIZE,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TIME_MODIFY_SET,
  encodefattr4_mode,
  encodefattr4_owner,
  encodefattr4_owner_group,
  encodefattr4_size,
  encodefattr4_time_access_set,
  encodefattr4_time_modify_set,
  isAllowedError,
  nfs_opnum4_names,
  nfsstat4_names,
  time_how4,
  type fattr4,
  type nfs_opnum4,
  type nfsstat4,
  type settime4,
} from "../../../generated/nfs4/index.js";
import type { FsTime } from "../../../src/fs/backend.js";
import { bitmapOf } from "../../../src/nfs/attrs/index.js";
import { XdrWriter } from "../../../src/xdr/index.js";

function statusName(s: number): string {
  return nfsstat4_names[s] ?? String(s);
}

/**
 * Expects `status` to be `expected`, and to be a status RFC 8881 §15.2 lets
 * `op` return (every status a handler test sees goes through here).
 */
export function expectOp(op: nfs_opnum4, status: nfsstat4, expected: nfsstat4): void {
  expect(statusName(status)).toBe(statusName(expected));
  expect(
    isAllowedError(op, status),
    `${nfs_opnum4_names[op]} may not return ${statusName(status)}`,
  ).toBe(true);
}

/** The settable attributes a test may put in a fattr4. */
export interface AttrValues {
  mode?: number;
  owner?: string | Uint8Array;
  group?: string | Uint8Array;
  size?: bigint;
  atime?: FsTime | "now";
  mtime?: FsTime | "now";
}

const enc = new TextEncoder();

function settime(t: FsTime | "now"): settime4 {
  return t === "now"
    ? { set_it: time_how4.SET_TO_SERVER_TIME4 }
    : { set_it: time_how4.SET_TO_CLIENT_TIME4, time: t };
}

/** A fattr4 holding `v`, in attribute order. */
export function fattr(v: AttrValues = {}): fattr4 {
  const w = new XdrWriter();
  const bits: number[] = [];
  const bytes = (s: string | Uint8Array): Uint8Array => (typeof s === "string" ? enc.encode(s) : s);
  if (v.size !== undefined) {
    bits.push(FATTR4_SIZE);
    encodefattr4_size(w, v.size);
  }
  if (v.mode !== undefined) {
    bits.push(FATTR4_MODE);
    encodefattr4_mode(w, v.mode);
  }
  if (v.owner !== undefined) {
    bits.push(FATTR4_OWNER);
    encodefattr4_owner(w, bytes(v.owner));
  }
  if (v.group !== undefined) {
    bits.push(FATTR4_OWNER_GROUP);
    encodefattr4_owner_group(w, bytes(v.group));
  }
  if (v.atime !== undefined) {
    bits.push(FATTR4_TIME_ACCESS_SET);
    encodefattr4_time_access_set(w, settime(v.atime));
  }
  if (v.mtime !== undefined) {
    bits.push(FATTR4_TIME_MODIFY_SET);
    encodefattr4_time_modify_set(w, settime(v.mtime));
  }
  return { attrmask: bitmapOf(bits), attr_vals: w.toBytes() };
}

/** A fattr4 with the given bits and raw values. */
export function rawFattr(bits: number[], fill: (w: XdrWriter) => void = () => {}): fattr4 {
  const w = new XdrWriter();
  fill(w);
  return { attrmask: bitmapOf(bits), attr_vals: w.toBytes() };
}

/**
 * `fs` with some members replaced (capabilities, or a getattr that reports
 * another fsid for some objects): how a test shows a backend this one is not.
 */
export function overrideFs<T extends object>(fs: T, overrides: Partial<T>): T {
  return new Proxy(fs, {
    get(target, prop, receiver) {
      if (Object.prototype.hasOwnProperty.call(overrides, prop)) {
        return overrides[prop as keyof T];
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return value;
    },
  });
}
