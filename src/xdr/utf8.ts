// UTF-8 helpers for XDR `string`. Most XDR strings on the wire (RPC machine
// names, NFS tags, owners) are short and ASCII; for those a JS loop beats the
// native call into Buffer/TextDecoder, so both directions take an ASCII fast path
// and fall back to Node's native codec otherwise.

/** Strings at most this long take the JS path; longer ones go straight to native code. */
const SHORT = 32;

/**
 * Decode bytes [start, end) of `bytes` if it is short and pure ASCII; otherwise return
 * undefined and let the caller use the native decoder (which needs a Buffer the
 * caller may have to create, so it is only asked for when needed).
 */
export function decodeShortAscii(
  bytes: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  if (end - start > SHORT) return undefined;
  let s = "";
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Write `s` as UTF-8 into `buf` at `offset`, returning the number of bytes
 * written. The caller guarantees room for every encoded byte (for short
 * strings it reserves the worst case, 3 bytes per UTF-16 code unit, so they
 * are never measured separately).
 */
export function encodeUtf8(buf: Buffer, offset: number, s: string): number {
  const n = s.length;
  if (n <= SHORT) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return buf.write(s, offset, "utf8");
      buf[offset + i] = c;
    }
    return n;
  }
  return buf.write(s, offset, "utf8");
}
