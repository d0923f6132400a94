// Which records `dfsctl decode` shows: by client id, session id and operation.
// Each given kind must match (any of its values); a reply matches on what its
// call named too, so a filter shows both halves of an exchange.

import type { DecodedRecord } from "./decoder.js";

export interface RecordFilter {
  /** Client ids as hex (16 digits; "0x" and case ignored). */
  readonly clients: readonly string[];
  /** Session ids as hex (32 digits). */
  readonly sessions: readonly string[];
  /** Operation or procedure names: SEQUENCE, OP_SEQUENCE, cb_recall, NULL. */
  readonly ops: readonly string[];
}

export const NO_FILTER: RecordFilter = Object.freeze({ clients: [], sessions: [], ops: [] });

/** Normalises a hex id as the user typed it; null if it is not hex. */
export function normalHex(s: string): string | null {
  const h = s.toLowerCase().replace(/^0x/, "");
  return /^[0-9a-f]+$/.test(h) ? h : null;
}

/** Normalises an operation name: upper case, without OP_. */
export function normalOp(s: string): string {
  const u = s.toUpperCase();
  return u.startsWith("OP_") ? u.slice(3) : u;
}

export function isFiltering(f: RecordFilter): boolean {
  return f.clients.length > 0 || f.sessions.length > 0 || f.ops.length > 0;
}

/** Client ids are shown as 16 hex digits: a shorter id given on the command line matches padded. */
function sameClient(given: string, id: string): boolean {
  return given.padStart(16, "0") === id;
}

export function matches(r: DecodedRecord, f: RecordFilter): boolean {
  if (f.clients.length > 0) {
    const ok = f.clients.some((c) => r.clients.some((id) => sameClient(normalHex(c) ?? "", id)));
    if (!ok) return false;
  }
  if (f.sessions.length > 0) {
    const ok = f.sessions.some((s) => r.sessions.includes(normalHex(s) ?? ""));
    if (!ok) return false;
  }
  if (f.ops.length > 0) {
    const names = new Set([
      r.procedure,
      ...(r.compound?.ops.map((o) => o.name) ?? []),
      ...(r.callOps ?? []),
    ]);
    if (!f.ops.some((o) => names.has(normalOp(o)))) return false;
  }
  return true;
}
