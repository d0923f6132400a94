// A READDIR reply's entries written once, as XDR, while the handler decides
// which fit (readdir.ts), instead of as entry4 objects (a name array, an
// fattr4 and its attr_vals copy per entry) that the generated encoder then
// copies again: at thousands of entries a listing those objects were most of
// its cost. The list is a dirlist4 all the same; its entries are decoded from
// the bytes only if someone reads them (tests, not the reply path).

import {
  decodeentry4,
  encodeREADDIR4res,
  encodenfsstat4,
  nfsstat4,
  type READDIR4res,
  type dirlist4,
  type entry4,
} from "../../../generated/nfs4/index.js";
import { XdrReader, type XdrWriter } from "../../xdr/index.js";

/** dirlist4's entries as the handler wrote them: per entry, TRUE (value follows) and the entry4. */
export class EncodedDirlist implements dirlist4 {
  #decoded: entry4[] | null = null;

  /**
   * @param encoded the entries' bytes (each "value follows" word and entry4);
   *   they may lie in a buffer lent by the I/O pool, valid until the reply
   *   carrying them has been written (then the pool takes it back)
   * @param count how many entries they hold
   */
  constructor(
    readonly encoded: Uint8Array,
    readonly count: number,
    readonly eof: boolean,
  ) {}

  /** The entries, decoded from the bytes once (the reply is encoded from the bytes). */
  get entries(): entry4[] {
    if (this.#decoded === null) {
      const r = new XdrReader(this.encoded);
      const list: entry4[] = [];
      for (let i = 0; i < this.count; i++) {
        if (!r.readBool()) throw new Error("encoded READDIR entries end early");
        list.push(decodeentry4(r));
      }
      this.#decoded = list;
    }
    return this.#decoded;
  }

  /** The dirlist4 on the wire: the entries as they are, the end of the list, eof. */
  writeTo(w: XdrWriter): void {
    w.writeOpaqueFixed(this.encoded, this.encoded.length);
    w.writeBool(false);
    w.writeBool(this.eof);
  }
}

/**
 * READDIR's result encoder (its descriptor's encodeResult): the generated
 * encodeREADDIR4res, except that an EncodedDirlist goes out as it is.
 */
export function encodeReaddirResult(w: XdrWriter, res: READDIR4res): void {
  if (res.status !== nfsstat4.NFS4_OK || !(res.resok4.reply instanceof EncodedDirlist)) {
    encodeREADDIR4res(w, res);
    return;
  }
  encodenfsstat4(w, res.status);
  w.writeOpaqueFixed(res.resok4.cookieverf, 8);
  res.resok4.reply.writeTo(w);
}
