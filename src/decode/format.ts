// The two output forms of `dfsctl decode`: readable text (a header line per
// call or reply, then one indented line per operation) and JSON lines (one
// object per record, notice and summary; bigints as decimal strings).

import type { DecodeNotice, DecodeSummary, DecodedRecord } from "./decoder.js";
import type { Display } from "./display.js";
import { Utf8Text, isDisplayRecord } from "./display.js";

/** `d` as text: enum names and hex bare, UTF-8 strings quoted, structures in braces. */
export function displayText(d: Display): string {
  if (d === null) return "-";
  if (d instanceof Utf8Text) return JSON.stringify(d.text);
  if (isDisplayRecord(d)) return `{${fields(d)}}`;
  if (typeof d === "object") return `[${d.map(displayText).join(", ")}]`;
  return String(d);
}

/** The fields of a structure as `name=value`, space-separated. */
function fields(d: { readonly [key: string]: Display }): string {
  return Object.entries(d)
    .map(([k, v]) => `${k}=${displayText(v)}`)
    .join(" ");
}

function topLevel(d: Display): string {
  if (isDisplayRecord(d)) return fields(d);
  return d === null ? "" : displayText(d);
}

const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;

/** Text lines for one record; `start` is the time shown as 0. */
export function recordText(r: DecodedRecord, start: number): string[] {
  const head = [
    (r.time - start).toFixed(6),
    `#${r.conn}`,
    `${r.src} -> ${r.dst}`,
    r.type === "call" ? "CALL " : "REPLY",
    `xid=${hex32(r.xid)}`,
    r.procedure,
  ];
  const c = r.compound;
  if (r.type === "call" && c?.minorversion !== undefined)
    head.push(
      c.callbackIdent !== undefined ? `cb_ident=${c.callbackIdent}` : `v4.${c.minorversion}`,
    );
  if (r.type === "reply") head.push(c?.status ?? r.rpcStatus ?? "");
  if (r.session !== undefined) head.push(`session=${r.session}`);
  if (r.slot !== undefined) head.push(`slot=${r.slot}`);
  if (r.seqid !== undefined) head.push(`seqid=${r.seqid}`);
  if (c !== undefined && c.tag instanceof Utf8Text && c.tag.text !== "")
    head.push(`tag=${displayText(c.tag)}`);
  else if (c !== undefined && typeof c.tag === "string" && c.tag !== "") head.push(`tag=${c.tag}`);
  if (r.latency !== undefined) head.push(`(${(r.latency * 1000).toFixed(3)} ms)`);
  if (r.unmatched === true) head.push("(call not captured)");
  const lines = [head.filter((x) => x !== "").join(" ")];
  for (const op of c?.ops ?? []) {
    const parts = [op.name];
    if (op.status !== undefined) parts.push(op.status);
    const body = topLevel(op.value);
    if (body !== "") parts.push(body);
    lines.push(`    ${parts.join(" ")}`);
  }
  if (r.rejectsCall === true)
    lines.push("    (its call did not decode, and the server rejected it too)");
  if (r.error !== undefined) {
    const verdict =
      r.verdict === "rejected" || r.verdict === "pending"
        ? ""
        : r.verdict === "undecoded"
          ? " [UNDECODED]"
          : "";
    lines.push(`    !! does not decode: ${r.error}${verdict}`);
  }
  return lines;
}

export function noticeText(n: DecodeNotice, start: number): string {
  const when = n.time === null ? "" : `${(n.time - start).toFixed(6)} `;
  const conn = n.conn === null ? "" : `#${n.conn} `;
  return `${when}${conn}-- ${n.message}`;
}

export function summaryText(s: DecodeSummary): string[] {
  const lines = [
    `-- ${s.frames} frames, ${s.segments} TCP segments on ${s.connections} connection${s.connections === 1 ? "" : "s"}: ` +
      `${s.calls} calls, ${s.replies} replies`,
    `-- decoded ${s.decoded}, undecoded ${s.undecoded}, rejected ${s.rejected} ` +
      `(did not decode, and the server refused them too), incomplete ${s.incomplete}, ` +
      `unmatched replies ${s.unmatched}, unanswered calls ${s.unanswered}`,
  ];
  if (s.lostBytes > 0 || s.skippedBytes > 0)
    lines.push(
      `-- ${s.lostBytes} stream bytes not captured, ${s.skippedBytes} bytes skipped to find records`,
    );
  for (const p of s.problems) lines.push(`-- capture file: ${p}`);
  return lines;
}

function jsonValue(_key: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

export function recordJson(r: DecodedRecord): string {
  return JSON.stringify({ ...r, time: Number(r.time.toFixed(6)), xid: hex32(r.xid) }, jsonValue);
}

export function noticeJson(n: DecodeNotice): string {
  return JSON.stringify(n, jsonValue);
}

export function summaryJson(s: DecodeSummary): string {
  return JSON.stringify({ type: "summary", ...s }, jsonValue);
}
