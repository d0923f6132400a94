// Map keys for opaque protocol values, and byte equality. A leaf module: every
// state module may import it, it imports none of them.

/** Hex of an opaque value, for use as a map key. */
export function keyOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Two opaque values are equal byte for byte. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** The key of an open-owner or lock-owner: owners are scoped by client ID (RFC 8881 §2.4). */
export function ownerKeyOf(clientid: bigint, owner: Uint8Array): string {
  return `${clientid.toString(16)}:${keyOf(owner)}`;
}
