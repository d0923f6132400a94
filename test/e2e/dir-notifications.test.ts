// Directory delegations with notifications over TCP (RFC 8881 §10.9, §18.39,
// §20.4): a real NfsServer on loopback, a holder whose callback handler
// records every CB_NOTIFY and answers as the test plans, and another client
// of the client library changing the directory. Each change reaches the
// holder once, in order, as the notification type that describes it; what
// no granted type describes recalls the delegation; a holder that stops
// answering loses it within a lease. No timing decides a verdict: every wait
// is a poll with a generous deadline (support.ts's until()).

import { describe, expect, it } from "vitest";
import type {
  CB_COMPOUND4args,
  CB_COMPOUND4res,
  CB_NOTIFY4args,
  CB_RECALL4args,
  fattr4,
  nfs_argop4,
  nfs_cb_resop4,
  nfs_opnum4,
  notify_add4,
  stateid4,
} from "../../generated/nfs4/index.js";
import {
  FATTR4_CHANGE,
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_SIZE,
  FATTR4_SPACE_AVAIL,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TIME_MODIFY,
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_DENY_NONE,
  SEQ4_STATUS_RECALLABLE_STATE_REVOKED,
  channel_dir_from_client4,
  createmode4,
  decodefattr4_change,
  decodefattr4_fileid,
  decodefattr4_mode,
  decodefattr4_size,
  decodefattr4_time_modify,
  decodenotify_add4,
  decodenotify_attr4,
  decodenotify_remove4,
  decodenotify_rename4,
  decodenotify_verifier4,
  encodefattr4_mode,
  encodefattr4_size,
  gddrnf4_status,
  nfs_cb_opnum4,
  nfs_ftype4,
  nfsstat4,
  notify_type4,
  open_claim_type4,
  opentype4,
  stable_how4,
} from "../../generated/nfs4/index.js";
import type {
  ClientSession,
  CreateSessionOptions,
  NfsClient,
  ResultOf,
  SessionReply,
} from "../../src/client/index.js";
import { ops, resultOf } from "../../src/client/index.js";
import type { ChangeListener, FileHandle } from "../../src/fs/backend.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import { bitmapOf, bitsOf } from "../../src/nfs/attrs/index.js";
import type { NfsServer } from "../../src/nfs/server.js";
import { cbStatusResult } from "../../src/protocol/results.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import type { Running } from "./support.js";
import { OP, ST, connectClient, uniqueOwner, until, useServer } from "./support.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();

// --- what the holder hears, decoded --------------------------------------------------

/** Attribute values a notification carried, by name (only those the tests ask for). */
interface Attrs {
  size?: bigint;
  mode?: number;
  change?: bigint;
  fileid?: bigint;
  mtime?: bigint;
}

type Heard =
  | {
      type: "add";
      name: string;
      cookie: bigint | null;
      attrs: Attrs;
      prev: string | null;
      last: boolean;
      replaced: string | null;
    }
  | { type: "remove"; name: string; cookie: bigint }
  | { type: "rename"; from: string; to: string; replaced: string | null }
  | { type: "child-attrs"; name: string; attrs: Attrs }
  | { type: "dir-attrs"; attrs: Attrs }
  | { type: "verifier"; before: string; after: string };

function decodeAttrs(f: fattr4): Attrs {
  const r = new XdrReader(f.attr_vals);
  const out: Attrs = {};
  for (const bit of bitsOf(f.attrmask)) {
    if (bit === FATTR4_CHANGE) out.change = decodefattr4_change(r);
    else if (bit === FATTR4_SIZE) out.size = decodefattr4_size(r);
    else if (bit === FATTR4_FILEID) out.fileid = decodefattr4_fileid(r);
    else if (bit === FATTR4_MODE) out.mode = decodefattr4_mode(r);
    else if (bit === FATTR4_TIME_MODIFY) out.mtime = decodefattr4_time_modify(r).seconds;
    else throw new Error(`attribute ${bit} not expected in these tests`);
  }
  return out;
}

function added(a: notify_add4): Extract<Heard, { type: "add" }> {
  return {
    type: "add",
    name: text.decode(a.nad_new_entry.ne_file),
    cookie: a.nad_new_entry_cookie[0] ?? null,
    attrs: decodeAttrs(a.nad_new_entry.ne_attrs),
    prev: a.nad_prev_entry[0] ? text.decode(a.nad_prev_entry[0].pe_prev_entry.ne_file) : null,
    last: a.nad_last_entry,
    replaced: a.nad_old_entry[0] ? text.decode(a.nad_old_entry[0].nrm_old_entry.ne_file) : null,
  };
}

/** The changes of one CB_NOTIFY, in order (each notify4's bits in ascending order, §3.3.7). */
function decodeNotify(n: CB_NOTIFY4args): Heard[] {
  const out: Heard[] = [];
  for (const change of n.cna_changes) {
    const r = new XdrReader(change.notify_vals);
    for (const bit of bitsOf(change.notify_mask)) {
      switch (bit) {
        case notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS: {
          const e = decodenotify_attr4(r).na_changed_entry;
          out.push({
            type: "child-attrs",
            name: text.decode(e.ne_file),
            attrs: decodeAttrs(e.ne_attrs),
          });
          break;
        }
        case notify_type4.NOTIFY4_CHANGE_DIR_ATTRS:
          out.push({
            type: "dir-attrs",
            attrs: decodeAttrs(decodenotify_attr4(r).na_changed_entry.ne_attrs),
          });
          break;
        case notify_type4.NOTIFY4_REMOVE_ENTRY: {
          const e = decodenotify_remove4(r);
          out.push({
            type: "remove",
            name: text.decode(e.nrm_old_entry.ne_file),
            cookie: e.nrm_old_entry_cookie,
          });
          break;
        }
        case notify_type4.NOTIFY4_ADD_ENTRY:
          out.push(added(decodenotify_add4(r)));
          break;
        case notify_type4.NOTIFY4_RENAME_ENTRY: {
          const e = decodenotify_rename4(r);
          const to = added(e.nrn_new_entry);
          out.push({
            type: "rename",
            from: text.decode(e.nrn_old_entry.nrm_old_entry.ne_file),
            to: to.name,
            replaced: to.replaced,
          });
          break;
        }
        case notify_type4.NOTIFY4_CHANGE_COOKIE_VERIFIER: {
          const v = decodenotify_verifier4(r);
          out.push({
            type: "verifier",
            before: Buffer.from(v.nv_old_cookieverf).toString("hex"),
            after: Buffer.from(v.nv_new_cookieverf).toString("hex"),
          });
          break;
        }
        default:
          throw new Error(`unknown notification type ${bit}`);
      }
    }
    expect(r.remaining).toBe(0);
  }
  return out;
}

// --- the holder ----------------------------------------------------------------------

/**
 * The holder's callback handler: records CB_NOTIFYs and CB_RECALLs, answers
 * them NFS4_OK (or not at all, while `silent`), and gives a recalled
 * delegation back with DELEGRETURN right after answering.
 */
class Holder {
  /** Each CB_NOTIFY received, decoded (one array per call). */
  readonly calls: Heard[][] = [];
  readonly recalls: CB_RECALL4args[] = [];
  readonly returns: Promise<SessionReply>[] = [];
  /** Answer nothing (a holder that stopped answering). */
  silent = false;
  session: ClientSession | null = null;

  /** Every change heard, in order. */
  get heard(): Heard[] {
    return this.calls.flat();
  }

  answer(args: CB_COMPOUND4args): CB_COMPOUND4res | null {
    if (this.silent) return null;
    const seq = args.argarray[0];
    if (seq?.argop !== nfs_cb_opnum4.OP_CB_SEQUENCE) throw new Error("no CB_SEQUENCE first");
    const s = seq.opcbsequence;
    const resarray: nfs_cb_resop4[] = [
      {
        resop: nfs_cb_opnum4.OP_CB_SEQUENCE,
        opcbsequence: {
          csr_status: nfsstat4.NFS4_OK,
          csr_resok4: {
            csr_sessionid: s.csa_sessionid,
            csr_sequenceid: s.csa_sequenceid,
            csr_slotid: s.csa_slotid,
            csr_highest_slotid: s.csa_highest_slotid,
            csr_target_highest_slotid: s.csa_highest_slotid,
          },
        },
      },
    ];
    for (const op of args.argarray.slice(1)) {
      if (op.argop === nfs_cb_opnum4.OP_CB_NOTIFY) {
        this.calls.push(decodeNotify(op.opcbnotify));
        resarray.push(cbStatusResult(op.argop, nfsstat4.NFS4_OK));
      } else if (op.argop === nfs_cb_opnum4.OP_CB_RECALL) {
        const recall = {
          stateid: {
            seqid: op.opcbrecall.stateid.seqid,
            other: new Uint8Array(op.opcbrecall.stateid.other),
          },
          truncate: op.opcbrecall.truncate,
          fh: new Uint8Array(op.opcbrecall.fh),
        };
        this.recalls.push(recall);
        resarray.push(cbStatusResult(op.argop, nfsstat4.NFS4_OK));
        this.returns.push(
          new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
            if (this.session === null) throw new Error("no session");
            return this.session.compound([ops.putfh(recall.fh), ops.delegreturn(recall.stateid)]);
          }),
        );
      } else {
        resarray.push(cbStatusResult(op.argop, nfsstat4.NFS4ERR_NOTSUPP));
        return { status: nfsstat4.NFS4ERR_NOTSUPP, tag: args.tag, resarray };
      }
    }
    return { status: nfsstat4.NFS4_OK, tag: args.tag, resarray };
  }
}

interface Party {
  readonly client: NfsClient;
  readonly session: ClientSession;
  readonly holder: Holder;
}

async function party(running: Running, options: CreateSessionOptions = {}): Promise<Party> {
  const holder = new Holder();
  const client = await connectClient(running.port, { onCallback: (args) => holder.answer(args) });
  await client.exchangeId(uniqueOwner("notify"));
  const session = await client.createSession(options);
  holder.session = session;
  expect((await session.compound([ops.reclaimComplete(false)])).status).toBe(ST.NFS4_OK);
  return { client, session, holder };
}

// --- operations --------------------------------------------------------------------------

function resultIn<N extends nfs_opnum4>(reply: SessionReply, op: N): ResultOf<N> {
  for (const res of reply.resarray) {
    const r = resultOf(res, op);
    if (r !== undefined) return r;
  }
  throw new Error(`no result of operation ${op} (status ${reply.status})`);
}

const NO_ATTRS: fattr4 = { attrmask: [], attr_vals: new Uint8Array(0) };
const ANONYMOUS: stateid4 = { seqid: 0, other: new Uint8Array(12) };

const mkdirOp = (name: string): nfs_argop4 => ({
  argop: OP.OP_CREATE,
  opcreate: {
    objtype: { type: nfs_ftype4.NF4DIR },
    objname: utf8.encode(name),
    createattrs: NO_ATTRS,
  },
});
const symlinkOp = (name: string, target: string): nfs_argop4 => ({
  argop: OP.OP_CREATE,
  opcreate: {
    objtype: { type: nfs_ftype4.NF4LNK, linkdata: utf8.encode(target) },
    objname: utf8.encode(name),
    createattrs: NO_ATTRS,
  },
});
function openCreateOp(name: string): nfs_argop4 {
  return {
    argop: OP.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
      share_deny: OPEN4_SHARE_DENY_NONE,
      owner: { clientid: 0n, owner: utf8.encode("owner") },
      openhow: {
        opentype: opentype4.OPEN4_CREATE,
        how: { mode: createmode4.UNCHECKED4, createattrs: NO_ATTRS },
      },
      claim: { claim: open_claim_type4.CLAIM_NULL, file: utf8.encode(name) },
    },
  };
}
const removeOp = (name: string): nfs_argop4 => ({
  argop: OP.OP_REMOVE,
  opremove: { target: utf8.encode(name) },
});
const renameOp = (from: string, to: string): nfs_argop4 => ({
  argop: OP.OP_RENAME,
  oprename: { oldname: utf8.encode(from), newname: utf8.encode(to) },
});
const linkOp = (name: string): nfs_argop4 => ({
  argop: OP.OP_LINK,
  oplink: { newname: utf8.encode(name) },
});
const savefh: nfs_argop4 = { argop: OP.OP_SAVEFH };
function setattrOp(attrs: { mode?: number; size?: bigint }): nfs_argop4 {
  const w = new XdrWriter();
  const bits: number[] = [];
  if (attrs.size !== undefined) {
    encodefattr4_size(w, attrs.size);
    bits.push(FATTR4_SIZE);
  }
  if (attrs.mode !== undefined) {
    encodefattr4_mode(w, attrs.mode);
    bits.push(FATTR4_MODE);
  }
  return {
    argop: OP.OP_SETATTR,
    opsetattr: {
      stateid: ANONYMOUS,
      obj_attributes: { attrmask: bitmapOf(bits), attr_vals: w.toBytes() },
    },
  };
}
const writeOp = (s: stateid4, at: bigint, data: string): nfs_argop4 => ({
  argop: OP.OP_WRITE,
  opwrite: { stateid: s, offset: at, stable: stable_how4.FILE_SYNC4, data: utf8.encode(data) },
});

let dirs = 0;

/** A fresh directory /export/NAME made by `p`; its handle. */
async function makeDir(p: Party, prefix: string): Promise<{ name: string; fh: Uint8Array }> {
  const name = `${prefix}-${++dirs}`;
  const r = await p.session.compound([
    ops.putrootfh(),
    ops.lookup("export"),
    mkdirOp(name),
    ops.getfh(),
  ]);
  expect(r.status).toBe(ST.NFS4_OK);
  const fh = resultIn(r, OP.OP_GETFH);
  if (fh.status !== ST.NFS4_OK) throw new Error("GETFH");
  return { name, fh: fh.resok4.object };
}

interface Ask {
  types: number[];
  child?: number[];
  dir?: number[];
  childDelayMs?: number;
  dirDelayMs?: number;
}

interface Granted {
  stateid: stateid4;
  types: number[];
  child: number[];
  dir: number[];
}

const notice = (ms = 0): { seconds: bigint; nseconds: number } => ({
  seconds: BigInt(Math.floor(ms / 1000)),
  nseconds: (ms % 1000) * 1e6,
});

/** GET_DIR_DELEGATION of `fh` by `p`; what was granted (throws if nothing was). */
async function watch(p: Party, fh: Uint8Array, ask: Ask): Promise<Granted> {
  const r = await p.session.compound([
    ops.putfh(fh),
    {
      argop: OP.OP_GET_DIR_DELEGATION,
      opget_dir_delegation: {
        gdda_signal_deleg_avail: false,
        gdda_notification_types: bitmapOf(ask.types),
        gdda_child_attr_delay: notice(ask.childDelayMs),
        gdda_dir_attr_delay: notice(ask.dirDelayMs),
        gdda_child_attributes: bitmapOf(ask.child ?? []),
        gdda_dir_attributes: bitmapOf(ask.dir ?? []),
      },
    },
  ]);
  expect(r.status).toBe(ST.NFS4_OK);
  const g = resultIn(r, OP.OP_GET_DIR_DELEGATION);
  if (g.gddr_status !== ST.NFS4_OK) throw new Error(`GET_DIR_DELEGATION ${g.gddr_status}`);
  const nf = g.gddr_res_non_fatal4;
  if (nf.gddrnf_status !== gddrnf4_status.GDD4_OK) throw new Error("GDD4_UNAVAIL");
  const ok = nf.gddrnf_resok4;
  return {
    stateid: ok.gddr_stateid,
    types: bitsOf(ok.gddr_notification),
    child: bitsOf(ok.gddr_child_attributes),
    dir: bitsOf(ok.gddr_dir_attributes),
  };
}

/** Runs `ops` in directory `fh` as `p`; the status must be OK. */
async function inDir(p: Party, fh: Uint8Array, more: nfs_argop4[]): Promise<SessionReply> {
  const r = await p.session.compound([ops.putfh(fh), ...more]);
  expect(r.status).toBe(ST.NFS4_OK);
  return r;
}

/** Creates (OPEN, then CLOSE) file `name` in `fh` as `p`. */
async function createFile(p: Party, fh: Uint8Array, name: string): Promise<void> {
  const r = await inDir(p, fh, [openCreateOp(name)]);
  const open = resultIn(r, OP.OP_OPEN);
  if (open.status !== ST.NFS4_OK) throw new Error("OPEN");
  await inDir(p, fh, [ops.lookup(name), ops.close(open.resok4.stateid)]);
}

const ALL = [
  notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS,
  notify_type4.NOTIFY4_CHANGE_DIR_ATTRS,
  notify_type4.NOTIFY4_REMOVE_ENTRY,
  notify_type4.NOTIFY4_ADD_ENTRY,
  notify_type4.NOTIFY4_RENAME_ENTRY,
  notify_type4.NOTIFY4_CHANGE_COOKIE_VERIFIER,
];
const ENTRIES = [
  notify_type4.NOTIFY4_REMOVE_ENTRY,
  notify_type4.NOTIFY4_ADD_ENTRY,
  notify_type4.NOTIFY4_RENAME_ENTRY,
];

function notifyStats(server: NfsServer): typeof server.delegations.notifications.stats {
  return { ...server.delegations.notifications.stats };
}

/** Waits until the holder heard `n` changes (and nothing is left to send). */
async function heardAll(running: Running, h: Holder, n: number): Promise<Heard[]> {
  await until(
    () => h.heard.length >= n && running.server.delegations.notifications.pending === 0,
    `${n} changes`,
  );
  return h.heard;
}

// --- the tests ------------------------------------------------------------------------------

/** A memory backend whose test can change a directory's cookie verifier (as a persistent one may). */
class RotatingVerifierFs extends MemoryFileSystem {
  private readonly listeners = new Set<ChangeListener>();
  override observe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    const inner = super.observe(listener);
    return () => {
      this.listeners.delete(listener);
      inner();
    };
  }
  rotate(dir: FileHandle, before: Uint8Array, after: Uint8Array): void {
    for (const l of this.listeners) l({ origin: null, kind: "verifier", dir, before, after });
  }
}

describe("directory notifications (default settings)", () => {
  const fs = new RotatingVerifierFs({ exportMode: 0o777 });
  const running = useServer({ fs });

  it("grants the types asked for that exist, with the attributes asked for that a notification can carry", async () => {
    const a = await party(running);
    const d = await makeDir(a, "grant");
    const g = await watch(a, d.fh, {
      // 6 and 9 are not notify_type4 values.
      types: [...ALL, 6, 9],
      // space_avail is a statfs figure, time_access_set write-only: neither is reported.
      child: [FATTR4_SIZE, FATTR4_MODE, FATTR4_SPACE_AVAIL],
      dir: [FATTR4_CHANGE, FATTR4_TIME_ACCESS_SET],
    });
    expect(g.types).toEqual(ALL);
    expect(g.child).toEqual([FATTR4_SIZE, FATTR4_MODE]);
    expect(g.dir).toEqual([FATTR4_CHANGE]);
  });

  it("every entry type, each change once and in order: create, mkdir, symlink, link, rename within, rename over another, remove", async () => {
    const a = await party(running);
    const b = await party(running);
    const d = await makeDir(b, "entries");
    await createFile(b, d.fh, "pre");
    const g = await watch(a, d.fh, { types: ENTRIES, child: [FATTR4_FILEID] });
    expect(g.types).toEqual(ENTRIES);
    const before = notifyStats(running.server);

    await createFile(b, d.fh, "f");
    await inDir(b, d.fh, [mkdirOp("sub")]);
    await inDir(b, d.fh, [symlinkOp("ln", "f")]);
    await inDir(b, d.fh, [ops.lookup("f"), savefh, ops.putfh(d.fh), linkOp("hard")]);
    await inDir(b, d.fh, [savefh, renameOp("f", "g")]);
    await inDir(b, d.fh, [savefh, renameOp("ln", "hard")]);
    await inDir(b, d.fh, [removeOp("g")]);

    const heard = await heardAll(running, a.holder, 7);
    expect(heard.map((h) => h.type)).toEqual([
      "add",
      "add",
      "add",
      "add",
      "rename",
      "rename",
      "remove",
    ]);
    const [f, sub, ln, hard] = heard as Extract<Heard, { type: "add" }>[];
    expect([f!.name, sub!.name, ln!.name, hard!.name]).toEqual(["f", "sub", "ln", "hard"]);
    // The entry before each new one, its cookie, and the attributes asked for (§20.4.3).
    expect([f!.prev, sub!.prev, ln!.prev, hard!.prev]).toEqual(["pre", "f", "sub", "ln"]);
    expect(heard.slice(0, 4).every((h) => h.type === "add" && h.last && h.cookie !== null)).toBe(
      true,
    );
    expect(f!.attrs.fileid).toBeDefined();
    expect(hard!.attrs.fileid).toBe(f!.attrs.fileid);
    expect(heard[4]).toEqual({ type: "rename", from: "f", to: "g", replaced: null });
    // Renaming over an existing name names the entry it replaced (nad_old_entry).
    expect(heard[5]).toEqual({ type: "rename", from: "ln", to: "hard", replaced: "hard" });
    expect(heard[6]).toMatchObject({ type: "remove", name: "g" });
    // Fewer or as many calls as changes; no recall.
    const after = notifyStats(running.server);
    expect(after.delivered - before.delivered).toBe(7);
    expect(a.holder.recalls).toHaveLength(0);
  });

  it("rename into, out of and between two watched directories: REMOVE in the one, ADD in the other", async () => {
    const a = await party(running);
    const c = await party(running);
    const b = await party(running);
    const src = await makeDir(b, "from");
    const dst = await makeDir(b, "to");
    const outside = await makeDir(b, "outside");
    await createFile(b, src.fh, "x");
    await createFile(b, outside.fh, "y");
    await createFile(b, dst.fh, "taken");
    await watch(a, src.fh, { types: ENTRIES });
    await watch(c, dst.fh, { types: ENTRIES });

    // Between the two watched directories, over an existing name.
    await inDir(b, src.fh, [savefh, ops.putfh(dst.fh), renameOp("x", "taken")]);
    // Into the source from outside, and out of the target to outside.
    await inDir(b, outside.fh, [savefh, ops.putfh(src.fh), renameOp("y", "y2")]);
    await inDir(b, dst.fh, [savefh, ops.putfh(outside.fh), renameOp("taken", "back")]);

    const fromSrc = await heardAll(running, a.holder, 2);
    const fromDst = await heardAll(running, c.holder, 2);
    expect(fromSrc.map((h) => [h.type, "name" in h ? h.name : ""])).toEqual([
      ["remove", "x"],
      ["add", "y2"],
    ]);
    expect(fromDst.map((h) => [h.type, "name" in h ? h.name : ""])).toEqual([
      ["add", "taken"],
      ["remove", "taken"],
    ]);
    expect(fromDst[0]).toMatchObject({ type: "add", replaced: "taken" });
    expect(a.holder.recalls.length + c.holder.recalls.length).toBe(0);
  });

  it("child and directory attributes: only those in the masks, only when they changed, with their new values; WRITE's size", async () => {
    const a = await party(running);
    const b = await party(running);
    const d = await makeDir(b, "attrs");
    await createFile(b, d.fh, "f");
    await watch(a, d.fh, {
      types: [notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS, notify_type4.NOTIFY4_CHANGE_DIR_ATTRS],
      child: [FATTR4_SIZE],
      dir: [FATTR4_MODE],
    });
    // Not in the child mask: no notification.
    await inDir(b, d.fh, [ops.lookup("f"), setattrOp({ mode: 0o600 })]);
    // In it: the new size.
    await inDir(b, d.fh, [ops.lookup("f"), setattrOp({ size: 10n })]);
    // WRITE extending the file.
    const opened = await inDir(b, d.fh, [openCreateOp("f")]);
    const open = resultIn(opened, OP.OP_OPEN);
    if (open.status !== ST.NFS4_OK) throw new Error("OPEN");
    await inDir(b, d.fh, [ops.lookup("f"), writeOp(open.resok4.stateid, 10n, "hello")]);
    // The directory's mode.
    await inDir(b, d.fh, [setattrOp({ mode: 0o750 })]);

    const heard = await heardAll(running, a.holder, 3);
    expect(heard).toEqual([
      { type: "child-attrs", name: "f", attrs: { size: 10n } },
      { type: "child-attrs", name: "f", attrs: { size: 15n } },
      { type: "dir-attrs", attrs: { mode: 0o750 } },
    ]);
    expect(a.holder.recalls).toHaveLength(0);
  });

  it("a change made on the server itself, not by any client, is notified too; one no granted type describes recalls", async () => {
    const a = await party(running);
    const d = await makeDir(a, "local");
    await watch(a, d.fh, { types: [notify_type4.NOTIFY4_ADD_ENTRY], child: [FATTR4_SIZE] });
    const attrs = { mode: 0o644, uid: 0, gid: 0 };
    await fs.create(d.fh, "local", { kind: "guarded" }, attrs);
    const heard = await heardAll(running, a.holder, 1);
    expect(heard).toMatchObject([{ type: "add", name: "local", attrs: { size: 0n } }]);
    await fs.remove(d.fh, "local");
    await until(() => a.holder.returns.length === 1, "the recall");
    expect((await a.holder.returns[0]!).status).toBe(ST.NFS4_OK);
  });

  it("a changed cookie verifier is notified with the old and the new one", async () => {
    const a = await party(running);
    const b = await party(running);
    const d = await makeDir(b, "verifier");
    await watch(a, d.fh, { types: [notify_type4.NOTIFY4_CHANGE_COOKIE_VERIFIER] });
    fs.rotate(d.fh, new Uint8Array(8).fill(1), new Uint8Array(8).fill(2));
    const heard = await heardAll(running, a.holder, 1);
    expect(heard).toEqual([{ type: "verifier", before: "01".repeat(8), after: "02".repeat(8) }]);
  });

  it("the holder's own adds and removes are notified to it; its own attribute changes are not; nothing of its own recalls", async () => {
    const a = await party(running);
    const d = await makeDir(a, "own");
    // RENAME_ENTRY not granted: another client's rename would recall, the holder's own may not.
    await watch(a, d.fh, {
      types: [
        notify_type4.NOTIFY4_ADD_ENTRY,
        notify_type4.NOTIFY4_REMOVE_ENTRY,
        notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS,
      ],
      child: [FATTR4_MODE],
    });
    await createFile(a, d.fh, "mine");
    await inDir(a, d.fh, [ops.lookup("mine"), setattrOp({ mode: 0o600 })]);
    await inDir(a, d.fh, [savefh, renameOp("mine", "moved")]);
    await inDir(a, d.fh, [removeOp("moved")]);
    const heard = await heardAll(running, a.holder, 2);
    expect(heard.map((h) => [h.type, "name" in h ? h.name : ""])).toEqual([
      ["add", "mine"],
      ["remove", "moved"],
    ]);
    expect(a.holder.recalls).toHaveLength(0);
    expect(
      running.server.state.delegationsOf(running.server.state.session(a.session.id)!.client).size,
    ).toBe(1);
  });

  it("a change no granted type describes recalls the delegation; the change waits (DELAY) until it is returned", async () => {
    const a = await party(running);
    const b = await party(running);
    const d = await makeDir(b, "ungranted");
    await createFile(b, d.fh, "f");
    await watch(a, d.fh, { types: [notify_type4.NOTIFY4_ADD_ENTRY] });
    const r = await b.session.compound([ops.putfh(d.fh), removeOp("f")]);
    expect(r.status).toBe(ST.NFS4ERR_DELAY);
    await until(() => a.holder.returns.length === 1, "the recall");
    expect((await a.holder.returns[0]!).status).toBe(ST.NFS4_OK);
    // Until the change it was recalled for goes through, the directory is not delegated again
    // (a holder re-arming at once would starve it)…
    await expect(watch(a, d.fh, { types: [notify_type4.NOTIFY4_ADD_ENTRY] })).rejects.toThrow(
      "GDD4_UNAVAIL",
    );
    await inDir(b, d.fh, [removeOp("f")]);
    // …and then at once, with no recall cooldown: a watcher re-arms.
    const again = await watch(a, d.fh, { types: [notify_type4.NOTIFY4_ADD_ENTRY] });
    expect(again.types).toEqual([notify_type4.NOTIFY4_ADD_ENTRY]);
  });

  it("an empty mask is the caching delegation: any change by another client recalls it", async () => {
    const a = await party(running);
    const b = await party(running);
    const d = await makeDir(b, "caching");
    const g = await watch(a, d.fh, { types: [] });
    expect(g.types).toEqual([]);
    const r = await b.session.compound([ops.putfh(d.fh), openCreateOp("new")]);
    expect(r.status).toBe(ST.NFS4ERR_DELAY);
    await until(() => a.holder.returns.length === 1, "the recall");
    expect((await a.holder.returns[0]!).status).toBe(ST.NFS4_OK);
    await inDir(b, d.fh, [openCreateOp("new")]);
    expect(a.holder.calls).toHaveLength(0);
  });

  it("notifications survive the loss of the back channel's connection: delivered once a new one is bound", async () => {
    const a = await party(running);
    const b = await party(running);
    const d = await makeDir(b, "lost");
    await watch(a, d.fh, { types: ENTRIES });
    a.client.connections[0]!.destroy();
    await until(
      () => running.server.state.session(a.session.id)?.backChannel() === null,
      "the server to see the connection close",
    );
    await createFile(b, d.fh, "while-away-1");
    await createFile(b, d.fh, "while-away-2");
    expect(a.holder.calls).toHaveLength(0);
    const again = await a.client.addConnection();
    expect((await a.session.sequenceOnly({ conn: again })).status).toBe(ST.NFS4_OK);
    await a.session.bindConnection(again, channel_dir_from_client4.CDFC4_BACK_OR_BOTH);
    const heard = await heardAll(running, a.holder, 2);
    expect(heard.map((h) => ("name" in h ? h.name : ""))).toEqual(["while-away-1", "while-away-2"]);
    expect(a.holder.recalls).toHaveLength(0);
  });
});

describe("batching and the queue bound", () => {
  const running = useServer({ settings: { notifyBatchMs: 1000, maxQueuedNotifications: 8 } });

  it("changes within the delay go in fewer CB_NOTIFYs, each once and in order", async () => {
    const a = await party(running);
    const b = await party(running);
    const d = await makeDir(b, "batch");
    await createFile(b, d.fh, "f");
    await watch(a, d.fh, {
      types: [...ENTRIES, notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS],
      child: [FATTR4_SIZE],
      childDelayMs: 1000,
    });
    const before = notifyStats(running.server);
    for (let i = 1; i <= 6; i++)
      await inDir(b, d.fh, [ops.lookup("f"), setattrOp({ size: BigInt(i) })]);
    await inDir(b, d.fh, [mkdirOp("m")]);
    const heard = await heardAll(running, a.holder, 7);
    expect(heard.slice(0, 6).map((h) => (h.type === "child-attrs" ? h.attrs.size : -1n))).toEqual([
      1n,
      2n,
      3n,
      4n,
      5n,
      6n,
    ]);
    expect(heard[6]).toMatchObject({ type: "add", name: "m" });
    const after = notifyStats(running.server);
    expect(after.delivered - before.delivered).toBe(7);
    expect(after.calls - before.calls).toBeLessThan(7);
  });

  it("a delay asked for beyond nfs.maxNotifyDelayMs is clamped to it", async () => {
    const a = await party(running);
    const b = await party(running);
    const d = await makeDir(b, "clamped");
    await createFile(b, d.fh, "f");
    // An hour asked; the server holds attribute changes at most maxNotifyDelayMs (1 s).
    await watch(a, d.fh, {
      types: [notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS],
      child: [FATTR4_SIZE],
      childDelayMs: 3_600_000,
    });
    await inDir(b, d.fh, [ops.lookup("f"), setattrOp({ size: 3n })]);
    expect(await heardAll(running, a.holder, 1)).toEqual([
      { type: "child-attrs", name: "f", attrs: { size: 3n } },
    ]);
  });

  it("one change more than the queue holds recalls the delegation instead", async () => {
    const a = await party(running);
    const b = await party(running);
    const d = await makeDir(b, "overflow");
    await watch(a, d.fh, { types: ENTRIES });
    const before = notifyStats(running.server);
    // Within notifyBatchMs nothing is sent: the ninth change overflows the queue of eight.
    for (let i = 0; i < 9; i++) await createFile(b, d.fh, `f${i}`);
    await until(() => a.holder.returns.length === 1, "the recall");
    expect((await a.holder.returns[0]!).status).toBe(ST.NFS4_OK);
    expect(running.server.delegations.notifications.stats.recalls - before.recalls).toBe(1);
    // The queue was dropped with the delegation: nothing is sent after the recall.
    expect(running.server.delegations.notifications.pending).toBe(0);
    expect(a.holder.calls).toHaveLength(0);
  });
});

describe("a holder that stops answering, with a two-second lease", () => {
  const running = useServer({ settings: { leaseTimeSec: 2, callbackTimeoutMs: 300 } });

  it(
    "is revoked within a lease (RECALLABLE_STATE_REVOKED); the changing client was never held up",
    { timeout: 20_000 },
    async () => {
      const a = await party(running);
      const b = await party(running);
      const d = await makeDir(b, "silent");
      const g = await watch(a, d.fh, { types: ENTRIES });
      a.holder.silent = true;
      const timer = setInterval(() => void a.session.sequenceOnly().catch(() => undefined), 250);
      try {
        const revokedBefore = running.server.delegations.stats.revoked;
        await createFile(b, d.fh, "one");
        await createFile(b, d.fh, "two");
        await until(
          () => running.server.delegations.stats.revoked > revokedBefore,
          "the delegation to be revoked",
          15_000,
        );
        const seq = await a.session.sequenceOnly();
        expect(seq.status).toBe(ST.NFS4_OK);
        expect(a.session.statusFlags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED).not.toBe(0);
        const ret = await a.session.compound([ops.putfh(d.fh), ops.delegreturn(g.stateid)]);
        expect(ret.status).toBe(ST.NFS4ERR_DELEG_REVOKED);
      } finally {
        clearInterval(timer);
      }
    },
  );

  it(
    "with an empty mask, the other client gets DELAY until the silent holder's delegation is revoked, within a lease",
    { timeout: 20_000 },
    async () => {
      const a = await party(running);
      const b = await party(running);
      const d = await makeDir(b, "silent-caching");
      await watch(a, d.fh, { types: [] });
      a.holder.silent = true;
      const r = await b.session.compound([ops.putfh(d.fh), openCreateOp("new")]);
      expect(r.status).toBe(ST.NFS4ERR_DELAY);
      await until(
        async () =>
          (await b.session.compound([ops.putfh(d.fh), openCreateOp("new")])).status === ST.NFS4_OK,
        "the change to go through",
        15_000,
      );
      expect(a.holder.recalls).toHaveLength(0);
    },
  );
});

describe("CB_NOTIFYs sized to the holder's back channel", () => {
  const running = useServer({ settings: { notifyBatchMs: 500 } });

  it("a batch larger than ca_maxrequestsize goes in several calls, each change once and in order", async () => {
    // 1.5 KiB: room for a few additions per call after the RPC and CB_COMPOUND framing.
    const a = await party(running, { back: { ca_maxrequestsize: 1536 } });
    const b = await party(running);
    const d = await makeDir(b, "small");
    await watch(a, d.fh, { types: ENTRIES, child: [FATTR4_FILEID, FATTR4_SIZE] });
    const before = notifyStats(running.server);
    const names = Array.from({ length: 40 }, (_, i) => `a-rather-long-file-name-${i}`);
    for (const n of names) await createFile(b, d.fh, n);
    const heard = await heardAll(running, a.holder, names.length);
    expect(heard.map((h) => ("name" in h ? h.name : ""))).toEqual(names);
    const calls = running.server.delegations.notifications.stats.calls - before.calls;
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(names.length);
    expect(a.holder.recalls).toHaveLength(0);
  });

  it("a change too large for the back channel recalls the delegation", async () => {
    const a = await party(running, { back: { ca_maxrequestsize: 700 } });
    const b = await party(running);
    const d = await makeDir(b, "tiny");
    await watch(a, d.fh, { types: ENTRIES });
    await createFile(b, d.fh, "x".repeat(255));
    await until(() => a.holder.returns.length === 1, "the recall");
    expect((await a.holder.returns[0]!).status).toBe(ST.NFS4_OK);
    expect(a.holder.calls).toHaveLength(0);
  });
});

describe("limits", () => {
  const running = useServer({ settings: { maxDirDelegationsPerClient: 1 } });

  it("a client holds at most nfs.maxDirDelegationsPerClient directory delegations", async () => {
    const a = await party(running);
    const b = await party(running);
    const one = await makeDir(a, "one");
    const two = await makeDir(a, "two");
    const first = await watch(a, one.fh, { types: ENTRIES });
    await expect(watch(a, two.fh, { types: ENTRIES })).rejects.toThrow("GDD4_UNAVAIL");
    // Another client has its own allowance.
    await watch(b, two.fh, { types: ENTRIES });
    await inDir(a, one.fh, [ops.delegreturn(first.stateid)]);
    await watch(a, two.fh, { types: ENTRIES });
  });
});
