// fattr4 encoding and decoding (src/nfs/attrs), independent of any operation.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FATTR4_ACL,
  FATTR4_CHANGE,
  FATTR4_FILEHANDLE,
  FATTR4_FILEID,
  FATTR4_FS_LAYOUT_TYPES,
  FATTR4_LEASE_TIME,
  FATTR4_MAXREAD,
  FATTR4_MODE,
  FATTR4_OFFLINE,
  FATTR4_OPEN_ARGUMENTS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_RDATTR_ERROR,
  FATTR4_SIZE,
  FATTR4_SPACE_TOTAL,
  FATTR4_SUPPORTED_ATTRS,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TIME_DELEG_ACCESS,
  FATTR4_TIME_DELEG_MODIFY,
  FATTR4_TIME_MODIFY_SET,
  FATTR4_TYPE,
  decodefattr4_time_deleg_access,
  encodefattr4,
  decodefattr4_time_deleg_modify,
  encodefattr4_mode,
  encodefattr4_open_arguments,
  encodefattr4_owner,
  encodefattr4_size,
  encodefattr4_time_deleg_access,
  encodefattr4_time_deleg_modify,
  encodefattr4_time_modify_set,
  encodefattr4_type,
  nfs_ftype4,
  nfsstat4,
  time_how4,
} from "../../../generated/nfs4/index.js";
import type { FileAttributes } from "../../../src/fs/backend.js";
import { MemoryFileSystem } from "../../../src/fs/memory.js";
import {
  ATTRS,
  OPEN_ARGUMENTS,
  SUPPORTED_ATTRS,
  bitmapOf,
  bitsOf,
  decodeAttrs,
  difference,
  encodeAttrs,
  hasBit,
  intersect,
  needsStats,
  numericId,
  requestsWriteOnly,
  writeAttrs,
  type AttrSource,
} from "../../../src/nfs/attrs/index.js";
import { DEFAULT_NFS_SETTINGS } from "../../../src/nfs/settings.js";
import { XdrReader, XdrWriter } from "../../../src/xdr/index.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const BASE: FileAttributes = {
  type: nfs_ftype4.NF4DIR,
  mode: 0o755,
  nlink: 2,
  uid: 0,
  gid: 1000,
  size: 4096n,
  spaceUsed: 4096n,
  fileid: 42n,
  atime: { seconds: 1n, nseconds: 2 },
  mtime: { seconds: 3n, nseconds: 4 },
  ctime: { seconds: 5n, nseconds: 6 },
  birthtime: { seconds: 7n, nseconds: 8 },
  change: 9n,
  rdev: { major: 0, minor: 0 },
  fsid: { major: 1n, minor: 0n },
};

function source(over: Partial<AttrSource> = {}): AttrSource {
  return {
    handle: new Uint8Array([0xaa, 0xbb, 0xcc]),
    attrs: BASE,
    caps: new MemoryFileSystem().capabilities,
    settings: DEFAULT_NFS_SETTINGS,
    ...over,
  };
}

function encodeWith(fn: (w: XdrWriter) => void): Uint8Array {
  const w = new XdrWriter();
  fn(w);
  return w.toBytes();
}

describe("bitmap helpers", () => {
  it("round-trips bit lists", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 127 })), (bits) => {
        const sorted = [...bits].sort((a, b) => a - b);
        const bm = bitmapOf(bits);
        expect(bitsOf(bm)).toEqual(sorted);
        for (const b of sorted) expect(hasBit(bm, b)).toBe(true);
        if (bits.length > 0) expect(bm[bm.length - 1]).not.toBe(0);
      }),
    );
  });

  it("intersect and difference trim trailing zero words", () => {
    expect(intersect([1, 0x80000000, 0], [1, 0, 0])).toEqual([1]);
    expect(difference([3, 4], [0, 4])).toEqual([3]);
    expect(hasBit([0, 0x80000000], 63)).toBe(true);
    expect(hasBit([1], 40)).toBe(false);
  });
});

describe("encodeAttrs", () => {
  it('encodes mode 0755 as 000001ed and owner "0" as 00000001 30000000', () => {
    const f = encodeAttrs(bitmapOf([FATTR4_MODE, FATTR4_OWNER]), source());
    expect(f.attrmask).toEqual([0, (1 << (FATTR4_MODE - 32)) | (1 << (FATTR4_OWNER - 32))]);
    expect(hex(f.attr_vals)).toBe("000001ed" + "00000001" + "30000000");
  });

  it("encodes owner_group as the decimal gid", () => {
    const f = encodeAttrs(bitmapOf([FATTR4_OWNER_GROUP]), source());
    expect(hex(f.attr_vals)).toBe("00000004" + Buffer.from("1000").toString("hex"));
  });

  it("encodes each owner right however many ids come by (the encoded names are cached, bounded)", () => {
    for (let uid = 0; uid < 10_000; uid += 1) {
      const f = encodeAttrs(bitmapOf([FATTR4_OWNER]), source({ attrs: { ...BASE, uid: uid * 7 } }));
      const text = String(uid * 7);
      const vals = Buffer.from(f.attr_vals);
      expect(vals.readUInt32BE(0)).toBe(text.length);
      expect(vals.toString("latin1", 4, 4 + text.length)).toBe(text);
    }
  });

  it("writes values in ascending attribute order with the generated encoders", () => {
    const f = encodeAttrs(bitmapOf([FATTR4_SIZE, FATTR4_TYPE, FATTR4_MODE]), source());
    expect(bitsOf(f.attrmask)).toEqual([FATTR4_TYPE, FATTR4_SIZE, FATTR4_MODE]);
    const expected = encodeWith((w) => {
      encodefattr4_type(w, nfs_ftype4.NF4DIR);
      encodefattr4_size(w, 4096n);
      encodefattr4_mode(w, 0o755);
    });
    expect(hex(f.attr_vals)).toBe(hex(expected));
  });

  it("returns exactly the requested supported attributes, silently dropping the rest", () => {
    const requested = bitmapOf([
      FATTR4_TYPE,
      FATTR4_ACL,
      FATTR4_FILEID,
      FATTR4_FS_LAYOUT_TYPES,
      100,
    ]);
    const f = encodeAttrs(requested, source());
    expect(bitsOf(f.attrmask)).toEqual([FATTR4_TYPE, FATTR4_FILEID]);
  });

  it("returns every requested supported attribute (property)", () => {
    const readable = ATTRS.filter((d) => d.write !== null).map((d) => d.bit);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 95 })), (bits) => {
        const requested = bitmapOf(bits);
        const f = encodeAttrs(requested, source({ stats: statsFixture }));
        const want = bits.filter((b) => readable.includes(b)).sort((a, b) => a - b);
        expect(bitsOf(f.attrmask)).toEqual(want);
      }),
    );
  });

  it("writeAttrs writes the bytes of encodefattr4(encodeAttrs()), also when some attribute has no value (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 95 })),
        fc.boolean(),
        (bits, withStats) => {
          const requested = bitmapOf(bits);
          // Without statfs figures, the space_* and files_* attributes have no value.
          const src = source({ stats: withStats ? statsFixture : undefined });
          const direct = new XdrWriter(8);
          direct.writeUint(0xfeedf00d); // not at offset 0, as in a reply
          writeAttrs(direct, requested, src);
          const expected = encodeWith((w) => {
            w.writeUint(0xfeedf00d);
            encodefattr4(w, encodeAttrs(requested, src));
          });
          expect(hex(direct.finish())).toBe(hex(expected));
        },
      ),
    );
  });

  it("an empty request gives an empty fattr4", () => {
    const f = encodeAttrs([0, 0], source());
    expect(f.attrmask).toEqual([]);
    expect(f.attr_vals.length).toBe(0);
  });

  it("supported_attrs lists the table, and lease_time/maxread come from the settings", () => {
    const f = encodeAttrs(bitmapOf([FATTR4_SUPPORTED_ATTRS, FATTR4_LEASE_TIME, FATTR4_MAXREAD]), {
      ...source(),
      settings: { ...DEFAULT_NFS_SETTINGS, leaseTimeSec: 45, maxIoSize: 65536 },
    });
    const words = SUPPORTED_ATTRS.map((w) => w.toString(16).padStart(8, "0")).join("");
    const len = SUPPORTED_ATTRS.length.toString(16).padStart(8, "0");
    expect(hex(f.attr_vals)).toBe(len + words + "0000002d" + "0000000000010000");
  });

  it("filehandle, rdattr_error and mounted_on_fileid", () => {
    const f = encodeAttrs(bitmapOf([FATTR4_RDATTR_ERROR, FATTR4_FILEHANDLE, 55]), source());
    expect(hex(f.attr_vals)).toBe("00000000" + "00000003aabbcc00" + "000000000000002a");
    const g = encodeAttrs(bitmapOf([55]), source({ attrs: { ...BASE, mountedOnFileid: 7n } }));
    expect(hex(g.attr_vals)).toBe("0000000000000007");
  });

  it("leaves out statfs attributes when no figures were fetched", () => {
    expect(needsStats(bitmapOf([FATTR4_SPACE_TOTAL]))).toBe(true);
    expect(needsStats(bitmapOf([FATTR4_MODE]))).toBe(false);
    expect(bitsOf(encodeAttrs(bitmapOf([FATTR4_SPACE_TOTAL]), source()).attrmask)).toEqual([]);
  });

  it("answers each request alike however requests follow one another (the last plan is reused only for the same bits)", () => {
    const withStats = bitmapOf([FATTR4_MODE, FATTR4_SPACE_TOTAL, FATTR4_OWNER]);
    const figures = {
      spaceTotal: 8n,
      spaceFree: 4n,
      spaceAvail: 4n,
      filesTotal: 9n,
      filesFree: 1n,
      filesAvail: 1n,
    };
    const stats = source({ stats: figures });
    const a = encodeAttrs(withStats, stats);
    expect(bitsOf(a.attrmask)).toEqual([FATTR4_MODE, FATTR4_OWNER, FATTR4_SPACE_TOTAL]);
    // The same request for an object without figures: space_total is left out, mode and owner stay.
    const b = encodeAttrs([...withStats], source());
    expect(bitsOf(b.attrmask)).toEqual([FATTR4_MODE, FATTR4_OWNER]);
    expect(hex(b.attr_vals)).toBe("000001ed" + "0000000130000000");
    // Another request, then the first again, the array changed in place in between.
    const req = bitmapOf([FATTR4_SIZE]);
    expect(bitsOf(encodeAttrs(req, source()).attrmask)).toEqual([FATTR4_SIZE]);
    req[0] = bitmapOf([FATTR4_TYPE])[0]!;
    expect(bitsOf(encodeAttrs(req, source()).attrmask)).toEqual([FATTR4_TYPE]);
    // Results that have every attribute share a mask nobody can change.
    const c = encodeAttrs(withStats, stats);
    expect(() => c.attrmask.push(1)).toThrow(TypeError);
    expect(bitsOf(a.attrmask)).toEqual(bitsOf(c.attrmask));
  });

  it("detects write-only attributes", () => {
    expect(requestsWriteOnly(bitmapOf([FATTR4_TIME_ACCESS_SET]))).toBe(true);
    expect(requestsWriteOnly(bitmapOf([FATTR4_TIME_MODIFY_SET]))).toBe(true);
    expect(requestsWriteOnly(bitmapOf([FATTR4_MODE]))).toBe(false);
  });
});

const statsFixture = {
  spaceTotal: 100n,
  spaceFree: 50n,
  spaceAvail: 40n,
  filesTotal: 10n,
  filesFree: 5n,
  filesAvail: 4n,
};

// The bitmaps the Linux client (fs/nfs/nfs4proc.c) sends at mount and stat time.
describe("what the Linux client asks for", () => {
  const W = (word: number, ...bits: number[]): number =>
    bits.reduce((m, b) => m | (1 << (b - 32 * word)), 0) >>> 0;

  it("server capabilities: all supported", () => {
    const req = [W(0, 0, 2, 5, 6, 13, 16, 17), 0, W(2, 75)];
    const f = encodeAttrs(req, source());
    expect(f.attrmask).toEqual(req);
  });

  it("nfs4_fattr_bitmap: all supported", () => {
    const req = [W(0, 1, 3, 4, 8, 20), W(1, 33, 35, 36, 37, 41, 45, 47, 50, 52, 53, 55)];
    const f = encodeAttrs(req, source());
    expect(f.attrmask).toEqual(req);
  });

  it("nfs4_fsinfo_bitmap: all but the pNFS and other 4.2 attributes (xattr_support is answered)", () => {
    const req = [W(0, 10, 27, 30, 31), W(1, 51, FATTR4_FS_LAYOUT_TYPES), W(2, 65, 77, 79, 82)];
    const f = encodeAttrs(req, source());
    expect(f.attrmask).toEqual([W(0, 10, 27, 30, 31), W(1, 51), W(2, 82)]);
  });

  it("nfs4_statfs_bitmap and nfs4_pathconf_bitmap: all supported", () => {
    const statfs = [W(0, 21, 22, 23), W(1, 42, 43, 44)];
    expect(encodeAttrs(statfs, source({ stats: statsFixture })).attrmask).toEqual(statfs);
    const pathconf = [W(0, 28, 29), 0];
    expect(encodeAttrs(pathconf, source()).attrmask).toEqual([W(0, 28, 29)]);
  });
});

describe("decodeAttrs", () => {
  const fattr = (bits: number[], fn: (w: XdrWriter) => void) => ({
    attrmask: bitmapOf(bits),
    attr_vals: encodeWith(fn),
  });

  it("decodes the settable attributes", () => {
    const f = fattr([FATTR4_SIZE, FATTR4_MODE, FATTR4_OWNER, FATTR4_TIME_MODIFY_SET], (w) => {
      encodefattr4_size(w, 10n);
      encodefattr4_mode(w, 0o4755);
      encodefattr4_owner(w, new TextEncoder().encode("1000"));
      encodefattr4_time_modify_set(w, {
        set_it: time_how4.SET_TO_CLIENT_TIME4,
        time: { seconds: 5n, nseconds: 6 },
      });
    });
    const d = decodeAttrs(f);
    expect(d).toEqual({
      ok: true,
      attrs: { size: 10n, mode: 0o4755, owner: "1000", mtime: { seconds: 5n, nseconds: 6 } },
      attrsset: f.attrmask,
    });
  });

  it('server time is "now"', () => {
    const f = fattr([FATTR4_TIME_MODIFY_SET], (w) =>
      encodefattr4_time_modify_set(w, { set_it: time_how4.SET_TO_SERVER_TIME4 }),
    );
    expect(decodeAttrs(f)).toMatchObject({ ok: true, attrs: { mtime: "now" } });
  });

  it("ATTRNOTSUPP for unsupported, INVAL for read-only attributes", () => {
    expect(decodeAttrs(fattr([FATTR4_ACL], () => {}))).toEqual({
      ok: false,
      status: nfsstat4.NFS4ERR_ATTRNOTSUPP,
    });
    expect(decodeAttrs(fattr([FATTR4_CHANGE], (w) => w.writeUhyper(1n)))).toEqual({
      ok: false,
      status: nfsstat4.NFS4ERR_INVAL,
    });
  });

  it("BADXDR for short or overlong values, INVAL for bad mode, time or UTF-8", () => {
    const bad = (bits: number[], fn: (w: XdrWriter) => void): unknown =>
      decodeAttrs(fattr(bits, fn));
    expect(bad([FATTR4_SIZE], (w) => w.writeUint(1))).toEqual({
      ok: false,
      status: nfsstat4.NFS4ERR_BADXDR,
    });
    expect(bad([FATTR4_MODE], (w) => (w.writeUint(1), w.writeUint(2)))).toEqual({
      ok: false,
      status: nfsstat4.NFS4ERR_BADXDR,
    });
    expect(bad([FATTR4_MODE], (w) => w.writeUint(0o10000))).toEqual({
      ok: false,
      status: nfsstat4.NFS4ERR_INVAL,
    });
    expect(
      bad([FATTR4_TIME_MODIFY_SET], (w) =>
        encodefattr4_time_modify_set(w, {
          set_it: time_how4.SET_TO_CLIENT_TIME4,
          time: { seconds: 0n, nseconds: 1_000_000_000 },
        }),
      ),
    ).toEqual({ ok: false, status: nfsstat4.NFS4ERR_INVAL });
    expect(bad([FATTR4_OWNER], (w) => encodefattr4_owner(w, new Uint8Array([0xff])))).toEqual({
      ok: false,
      status: nfsstat4.NFS4ERR_INVAL,
    });
  });

  it("numericId accepts exactly the decimal spellings of 32-bit ids", () => {
    expect(numericId("0")).toBe(0);
    expect(numericId("1000")).toBe(1000);
    expect(numericId("4294967295")).toBe(4294967295);
    for (const s of ["", "01", "-1", "+1", "4294967296", "1e3", "root", " 1"]) {
      expect(numericId(s)).toBeNull();
    }
  });
});

describe("RFC 9754 attributes", () => {
  it("open_arguments is supported and encodes OPEN_ARGUMENTS with the generated encoder", () => {
    expect(hasBit(SUPPORTED_ATTRS, FATTR4_OPEN_ARGUMENTS)).toBe(true);
    const f = encodeAttrs(bitmapOf([FATTR4_MODE, FATTR4_OPEN_ARGUMENTS]), source());
    expect(bitsOf(f.attrmask)).toEqual([FATTR4_MODE, FATTR4_OPEN_ARGUMENTS]);
    const expected = encodeWith((w) => {
      encodefattr4_mode(w, 0o755);
      encodefattr4_open_arguments(w, OPEN_ARGUMENTS);
    });
    expect(hex(f.attr_vals)).toBe(hex(expected));
    // Five one-word bitmaps: access {1,2,3}, deny {0..3}, want {3,4,5},
    // claims {0,1,2,4,5}, create modes {0..3}.
    expect(hex(f.attr_vals).slice(8)).toBe(
      ["0000000e", "0000000f", "00000038", "00000037", "0000000f"]
        .map((w) => "00000001" + w)
        .join(""),
    );
  });

  it("open_arguments is read-only: INVAL in SETATTR's attributes", () => {
    const f = {
      attrmask: bitmapOf([FATTR4_OPEN_ARGUMENTS]),
      attr_vals: encodeWith((w) => encodefattr4_open_arguments(w, OPEN_ARGUMENTS)),
    };
    expect(requestsWriteOnly(f.attrmask)).toBe(false);
    expect(decodeAttrs(f)).toEqual({ ok: false, status: nfsstat4.NFS4ERR_INVAL });
  });

  it("offline and the delegated times are unsupported, but their values decode", () => {
    for (const bit of [FATTR4_OFFLINE, FATTR4_TIME_DELEG_ACCESS, FATTR4_TIME_DELEG_MODIFY]) {
      expect(hasBit(SUPPORTED_ATTRS, bit)).toBe(false);
      expect(bitsOf(encodeAttrs(bitmapOf([bit]), source()).attrmask)).toEqual([]);
    }
    const bytes = encodeWith((w) => {
      encodefattr4_time_deleg_access(w, { seconds: 1n, nseconds: 2 });
      encodefattr4_time_deleg_modify(w, { seconds: -3n, nseconds: 4 });
    });
    expect(
      decodeAttrs({ attrmask: bitmapOf([FATTR4_TIME_DELEG_ACCESS]), attr_vals: bytes }),
    ).toEqual({ ok: false, status: nfsstat4.NFS4ERR_ATTRNOTSUPP });
    // As a CB_GETATTR reply's fattr4 would carry them (RFC 9754 §5).
    const r = new XdrReader(bytes);
    expect(decodefattr4_time_deleg_access(r)).toEqual({ seconds: 1n, nseconds: 2 });
    expect(decodefattr4_time_deleg_modify(r)).toEqual({ seconds: -3n, nseconds: 4 });
    r.assertDone();
  });
});
