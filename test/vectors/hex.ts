// Helpers for the byte-vector tests: expected encodings are written by hand as
// hex, one XDR item (or a few words of one) per line, and compared word by word
// so that a mismatch shows which 4-byte unit differs.

/**
 * Joins hand-written hex lines into bytes. Spaces inside a line are ignored.
 * Every XDR item (padding included) is a multiple of 4 bytes, so every line
 * must be a whole number of 32-bit words; anything else is a typo in the test.
 */
export function bytes(...lines: string[]): Uint8Array {
  let hex = "";
  for (const line of lines) {
    const h = line.replace(/ /g, "");
    if (!/^(?:[0-9a-f]{8})+$/.test(h)) {
      throw new Error(`vector line ${JSON.stringify(line)} is not whole 32-bit words of hex`);
    }
    hex += h;
  }
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Raw bytes (not necessarily a multiple of 4) from hex, for opaque values. */
export function u8(hex: string): Uint8Array {
  const h = hex.replace(/ /g, "");
  if (!/^(?:[0-9a-f]{2})*$/.test(h)) throw new Error(`bad hex ${JSON.stringify(hex)}`);
  return new Uint8Array(Buffer.from(h, "hex"));
}

/** ASCII text as bytes, for utf8string/opaque values. */
export function ascii(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

/** The bytes as 8-hex-digit words (the last one shorter if the length is not a multiple of 4). */
export function words(b: Uint8Array): string[] {
  const hex = Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
  return hex.match(/.{1,8}/g) ?? [];
}
