// Reading packets out of a capture file: the classic pcap format (both byte
// orders, microsecond and nanosecond timestamps) and pcapng (sections of either
// byte order, several interfaces with their own link type and timestamp
// resolution; Enhanced, Simple and obsolete Packet Blocks). Format references:
// the pcap and pcapng drafts of the IETF OPSAWG (draft-ietf-opsawg-pcap,
// draft-ietf-opsawg-pcapng). A damaged file never throws: the reader reports
// the problem and stops at the first block it cannot trust.

/** One captured frame. */
export interface CapturedPacket {
  /** Frame number, from 1, as Wireshark counts them. */
  readonly frame: number;
  /** Seconds since the epoch. */
  readonly time: number;
  /** The LINKTYPE_ value of the frame's interface. */
  readonly linkType: number;
  /** The captured bytes (at most the snap length). */
  readonly data: Uint8Array;
  /** The frame's length on the wire; more than data.length when it was cut short. */
  readonly originalLength: number;
}

export type CaptureFormat = "pcap" | "pcapng";

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_IDB = 1;
const PCAPNG_OPB = 2;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
const IF_TSRESOL = 9;
const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;

/** Which format `bytes` is in, from its first word; null when neither. */
export function captureFormat(bytes: Uint8Array): CaptureFormat | null {
  if (bytes.length < 4) return null;
  const dv = view(bytes);
  const be = dv.getUint32(0, false);
  const le = dv.getUint32(0, true);
  if (be === PCAPNG_SHB) return "pcapng";
  if ([PCAP_MAGIC_US, PCAP_MAGIC_NS].includes(be) || [PCAP_MAGIC_US, PCAP_MAGIC_NS].includes(le))
    return "pcap";
  return null;
}

/**
 * The packets of a pcap or pcapng file, in file order. Problems (an unknown
 * format, a block running past the end of the file) go to `problem`; reading
 * stops there.
 */
export function* capturePackets(
  bytes: Uint8Array,
  problem: (message: string) => void,
): Generator<CapturedPacket> {
  const format = captureFormat(bytes);
  if (format === "pcap") yield* pcapPackets(bytes, problem);
  else if (format === "pcapng") yield* pcapngPackets(bytes, problem);
  else problem("not a pcap or pcapng file (unknown magic number)");
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function* pcapPackets(
  bytes: Uint8Array,
  problem: (message: string) => void,
): Generator<CapturedPacket> {
  const dv = view(bytes);
  if (bytes.length < PCAP_HEADER) {
    problem(`pcap header truncated (${bytes.length} of ${PCAP_HEADER} bytes)`);
    return;
  }
  const magicBe = dv.getUint32(0, false);
  const le = magicBe !== PCAP_MAGIC_US && magicBe !== PCAP_MAGIC_NS;
  const magic = dv.getUint32(0, le);
  const fraction = magic === PCAP_MAGIC_NS ? 1e9 : 1e6;
  // The upper bits of the link type field carry FCS information (pcap draft §4).
  const linkType = dv.getUint32(20, le) & 0xffff;
  let off = PCAP_HEADER;
  let frame = 0;
  while (off < bytes.length) {
    if (off + PCAP_RECORD_HEADER > bytes.length) {
      problem(`frame ${frame + 1}: record header truncated at byte ${off}`);
      return;
    }
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const caplen = dv.getUint32(off + 8, le);
    const origlen = dv.getUint32(off + 12, le);
    const start = off + PCAP_RECORD_HEADER;
    if (caplen > bytes.length - start) {
      problem(`frame ${frame + 1}: ${caplen} captured bytes run past the end of the file`);
      return;
    }
    off = start + caplen;
    yield {
      frame: ++frame,
      time: sec + frac / fraction,
      linkType,
      data: bytes.subarray(start, start + caplen),
      originalLength: Math.max(origlen, caplen),
    };
  }
}

interface PcapngInterface {
  readonly linkType: number;
  /** Timestamp units per second. */
  readonly unitsPerSecond: bigint;
}

function* pcapngPackets(
  bytes: Uint8Array,
  problem: (message: string) => void,
): Generator<CapturedPacket> {
  const dv = view(bytes);
  let le = true;
  let interfaces: PcapngInterface[] = [];
  let off = 0;
  let frame = 0;
  while (off < bytes.length) {
    if (off + 12 > bytes.length) {
      problem(`block at byte ${off} truncated`);
      return;
    }
    const type = dv.getUint32(off, le);
    if (type === PCAPNG_SHB || dv.getUint32(off, !le) === PCAPNG_SHB) {
      // The byte-order magic decides how this section (this block included) is read.
      if (dv.getUint32(off + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (dv.getUint32(off + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else {
        problem(`section header at byte ${off} has no byte-order magic`);
        return;
      }
      interfaces = [];
    }
    const length = dv.getUint32(off + 4, le);
    if (length < 12 || length % 4 !== 0 || length > bytes.length - off) {
      problem(`block at byte ${off} has a bad length ${length}`);
      return;
    }
    const body = off + 8;
    const bodyEnd = off + length - 4;
    const blockType = dv.getUint32(off, le);
    off += length;
    if (blockType === PCAPNG_IDB) {
      if (bodyEnd - body < 8) continue;
      interfaces.push({
        linkType: dv.getUint16(body, le),
        unitsPerSecond: tsResolution(dv, body + 8, bodyEnd, le),
      });
      continue;
    }
    let ifIndex = 0;
    let tsHigh = 0;
    let tsLow = 0;
    let caplen: number;
    let origlen: number;
    let data: number;
    if (blockType === PCAPNG_EPB || blockType === PCAPNG_OPB) {
      if (bodyEnd - body < 20) {
        problem(`frame ${frame + 1}: packet block at byte ${body - 8} too short`);
        continue;
      }
      ifIndex = blockType === PCAPNG_EPB ? dv.getUint32(body, le) : dv.getUint16(body, le);
      tsHigh = dv.getUint32(body + 4, le);
      tsLow = dv.getUint32(body + 8, le);
      caplen = dv.getUint32(body + 12, le);
      origlen = dv.getUint32(body + 16, le);
      data = body + 20;
    } else if (blockType === PCAPNG_SPB) {
      if (bodyEnd - body < 4) continue;
      origlen = dv.getUint32(body, le);
      data = body + 4;
      caplen = Math.min(origlen, bodyEnd - data);
    } else {
      continue; // name resolution, statistics, custom blocks...
    }
    const iface = interfaces[ifIndex];
    if (iface === undefined) {
      problem(`frame ${frame + 1}: packet on undeclared interface ${ifIndex}`);
      continue;
    }
    if (caplen > bodyEnd - data) {
      problem(`frame ${frame + 1}: ${caplen} captured bytes run past their block`);
      continue;
    }
    const ts = (BigInt(tsHigh) << 32n) | BigInt(tsLow);
    const units = iface.unitsPerSecond;
    yield {
      frame: ++frame,
      time: Number(ts / units) + Number(ts % units) / Number(units),
      linkType: iface.linkType,
      data: bytes.subarray(data, data + caplen),
      originalLength: Math.max(origlen, caplen),
    };
  }
}

/** The interface's if_tsresol option (pcapng §4.2): microseconds unless it says otherwise. */
function tsResolution(dv: DataView, off: number, end: number, le: boolean): bigint {
  while (off + 4 <= end) {
    const code = dv.getUint16(off, le);
    const len = dv.getUint16(off + 2, le);
    if (code === 0) break;
    if (code === IF_TSRESOL && len >= 1 && off + 5 <= end) {
      const v = dv.getUint8(off + 4);
      // High bit set: a negative power of 2; otherwise of 10. Beyond 2^-63 / 10^-18
      // no capture tool writes; such a value is ignored.
      const exp = v & 0x7f;
      if (v & 0x80) return exp <= 63 ? 1n << BigInt(exp) : 1_000_000n;
      return exp <= 18 ? 10n ** BigInt(exp) : 1_000_000n;
    }
    off += 4 + Math.ceil(len / 4) * 4;
  }
  return 1_000_000n;
}
