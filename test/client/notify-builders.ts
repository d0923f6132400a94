// Builders of CB_NOTIFY material for the client's unit tests: notify4 values
// encoded with the generated encoders, exactly as a server puts them on the
// wire (RFC 8881 §20.4.1), and CB_COMPOUNDs carrying them.

import type {
  CB_COMPOUND4args,
  fattr4,
  nfs_cb_argop4,
  notify4,
  notify_add4,
  notify_remove4,
  stateid4,
} from "../../generated/nfs4/index.js";
import {
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_SIZE,
  encodefattr4_fileid,
  encodefattr4_mode,
  encodefattr4_size,
  encodenotify_add4,
  encodenotify_attr4,
  encodenotify_remove4,
  encodenotify_rename4,
  encodenotify_verifier4,
  nfs_cb_opnum4,
  notify_type4,
} from "../../generated/nfs4/index.js";
import { bitmapOf } from "../../src/client/attrs.js";
import { XdrWriter } from "../../src/xdr/index.js";

const utf8 = new TextEncoder();

export const NO_ATTRS: fattr4 = { attrmask: [], attr_vals: new Uint8Array(0) };

/** fattr4 with any of fileid, size, mode (in bit order). */
export function attrs(v: { fileid?: bigint; size?: bigint; mode?: number }): fattr4 {
  const w = new XdrWriter();
  const bits: number[] = [];
  if (v.size !== undefined) {
    bits.push(FATTR4_SIZE);
    encodefattr4_size(w, v.size);
  }
  if (v.fileid !== undefined) {
    bits.push(FATTR4_FILEID);
    encodefattr4_fileid(w, v.fileid);
  }
  if (v.mode !== undefined) {
    bits.push(FATTR4_MODE);
    encodefattr4_mode(w, v.mode);
  }
  return { attrmask: bitmapOf(bits), attr_vals: w.toBytes() };
}

/** One value of a notify4 list: its notify_type4 and how it is encoded. */
export interface NotifyValue {
  readonly type: number;
  readonly encode: (w: XdrWriter) => void;
}

function removeValue(name: string, cookie: bigint): notify_remove4 {
  return {
    nrm_old_entry: { ne_file: utf8.encode(name), ne_attrs: NO_ATTRS },
    nrm_old_entry_cookie: cookie,
  };
}

function addValue(
  name: string,
  cookie: bigint | null,
  a: fattr4,
  replaced?: [string, bigint],
): notify_add4 {
  return {
    nad_old_entry: replaced === undefined ? [] : [removeValue(replaced[0], replaced[1])],
    nad_new_entry: { ne_file: utf8.encode(name), ne_attrs: a },
    nad_new_entry_cookie: cookie === null ? [] : [cookie],
    nad_prev_entry: [],
    nad_last_entry: false,
  };
}

export const add = (
  name: string,
  cookie: bigint | null,
  a: fattr4 = NO_ATTRS,
  replaced?: [string, bigint],
): NotifyValue => ({
  type: notify_type4.NOTIFY4_ADD_ENTRY,
  encode: (w) => encodenotify_add4(w, addValue(name, cookie, a, replaced)),
});

export const remove = (name: string, cookie: bigint): NotifyValue => ({
  type: notify_type4.NOTIFY4_REMOVE_ENTRY,
  encode: (w) => encodenotify_remove4(w, removeValue(name, cookie)),
});

export const rename = (
  from: string,
  fromCookie: bigint,
  to: string,
  toCookie: bigint,
): NotifyValue => ({
  type: notify_type4.NOTIFY4_RENAME_ENTRY,
  encode: (w) =>
    encodenotify_rename4(w, {
      nrn_old_entry: removeValue(from, fromCookie),
      nrn_new_entry: addValue(to, toCookie, NO_ATTRS),
    }),
});

export const childAttrs = (name: string, a: fattr4): NotifyValue => ({
  type: notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS,
  encode: (w) =>
    encodenotify_attr4(w, { na_changed_entry: { ne_file: utf8.encode(name), ne_attrs: a } }),
});

export const dirAttrs = (a: fattr4): NotifyValue => ({
  type: notify_type4.NOTIFY4_CHANGE_DIR_ATTRS,
  encode: (w) =>
    encodenotify_attr4(w, { na_changed_entry: { ne_file: new Uint8Array(0), ne_attrs: a } }),
});

export const verifier = (old: number, now: number): NotifyValue => ({
  type: notify_type4.NOTIFY4_CHANGE_COOKIE_VERIFIER,
  encode: (w) =>
    encodenotify_verifier4(w, {
      nv_old_cookieverf: new Uint8Array(8).fill(old),
      nv_new_cookieverf: new Uint8Array(8).fill(now),
    }),
});

/** One notify4 holding `values`; they must have distinct types and are written in ascending type order. */
export function notify(...values: NotifyValue[]): notify4 {
  const sorted = [...values].sort((a, b) => a.type - b.type);
  const w = new XdrWriter();
  for (const v of sorted) v.encode(w);
  return { notify_mask: bitmapOf(sorted.map((v) => v.type)), notify_vals: w.toBytes() };
}

const SESSION = new Uint8Array(16).fill(7);
let cbSeq = 0;

function cbSequence(): nfs_cb_argop4 {
  return {
    argop: nfs_cb_opnum4.OP_CB_SEQUENCE,
    opcbsequence: {
      csa_sessionid: SESSION,
      csa_sequenceid: ++cbSeq,
      csa_slotid: 0,
      csa_highest_slotid: 0,
      csa_cachethis: false,
      csa_referring_call_lists: [],
    },
  };
}

/** CB_COMPOUND(CB_SEQUENCE, CB_NOTIFY) of `changes` for `stateid` on directory `fh`. */
export function cbNotify(
  stateid: stateid4,
  fh: Uint8Array,
  ...changes: notify4[]
): CB_COMPOUND4args {
  return {
    tag: new Uint8Array(0),
    minorversion: 1,
    callback_ident: 0,
    argarray: [
      cbSequence(),
      {
        argop: nfs_cb_opnum4.OP_CB_NOTIFY,
        opcbnotify: { cna_stateid: stateid, cna_fh: fh, cna_changes: changes },
      },
    ],
  };
}

/** CB_COMPOUND(CB_SEQUENCE, CB_RECALL) of `stateid` on `fh`. */
export function cbRecall(stateid: stateid4, fh: Uint8Array): CB_COMPOUND4args {
  return {
    tag: new Uint8Array(0),
    minorversion: 1,
    callback_ident: 0,
    argarray: [
      cbSequence(),
      { argop: nfs_cb_opnum4.OP_CB_RECALL, opcbrecall: { stateid, truncate: false, fh } },
    ],
  };
}
