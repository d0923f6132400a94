// What a directory watch asks of the server, and its implementation over a
// client session: find the directory, take a directory delegation with
// notifications (GET_DIR_DELEGATION, RFC 8881 §18.39) and read the listing it
// covers, give it back (DELEGRETURN), keep the lease alive. The watch's state
// machine (watch.ts) sees only the DirectoryServer interface, so its tests can
// play the server with a fake.

import type { bitmap4, nfstime4, stateid4 } from "../../generated/nfs4/index.js";
import {
  FATTR4_FILEID,
  FATTR4_LEASE_TIME,
  NFS4_VERIFIER_SIZE,
  SEQ4_STATUS_RECALLABLE_STATE_REVOKED,
  gddrnf4_status,
  nfs_opnum4,
  nfsstat4,
  nfsstat4_names,
} from "../../generated/nfs4/index.js";
import { resultOf } from "../protocol/results.js";
import { bitmapOf, bitsOf, decodeAttributes } from "./attrs.js";
import { NfsError } from "./errors.js";
import { retryOnDelay } from "./files.js";
import { nameOf } from "./notify.js";
import * as ops from "./ops.js";
import type { ClientSession, SessionReply } from "./session.js";
import { failureOf } from "./session.js";

/** A directory entry as the watch remembers it. */
export interface DirectoryEntry {
  readonly name: string;
  /** Its READDIR cookie; null once the cookie verifier changed (or when unknown). */
  readonly cookie: bigint | null;
  readonly fileid: bigint | null;
}

/** The GET_DIR_DELEGATION arguments that matter (gdda_signal_deleg_avail is always false). */
export interface ArmRequest {
  /** notify_type4 values. */
  readonly types: readonly number[];
  readonly childAttributes: bitmap4;
  readonly dirAttributes: bitmap4;
  /** gdda_child_attr_delay and gdda_dir_attr_delay. */
  readonly delay: nfstime4;
}

/** A granted directory delegation and the listing read right after it. */
export interface Armed {
  readonly stateid: stateid4;
  readonly cookieverf: Uint8Array;
  /** The notify_type4 values granted, ascending. */
  readonly types: readonly number[];
  readonly childAttributes: bitmap4;
  readonly dirAttributes: bitmap4;
  readonly entries: readonly DirectoryEntry[];
}

export type ArmResult =
  | { readonly granted: true; readonly armed: Armed }
  /** `why`: the status or GDD4_UNAVAIL the server answered. */
  | { readonly granted: false; readonly why: string };

export interface ResolvedDirectory {
  readonly fh: Uint8Array;
  /** The server's lease_time, seconds, when it reported one. */
  readonly leaseSeconds: number | null;
}

export interface DirectoryServer {
  /** The filehandle of the directory at `path` ("/export/dir"). Throws NfsError. */
  resolve(path: string): Promise<ResolvedDirectory>;
  /** GET_DIR_DELEGATION, then the whole listing. Throws NfsError for errors other than "not granted". */
  arm(fh: Uint8Array, request: ArmRequest): Promise<ArmResult>;
  /** DELEGRETURN; a stateid the server no longer knows is not an error. */
  giveBack(fh: Uint8Array, stateid: stateid4): Promise<void>;
  /** Renews the lease; says whether the server reports revoked recallable state (§18.46.3). */
  renew(): Promise<{ readonly recallableStateRevoked: boolean }>;
  /** TEST_STATEID: true when `stateid` is no longer valid (it is then freed with FREE_STATEID). */
  isRevoked(stateid: stateid4): Promise<boolean>;
}

/** How much one READDIR reply may carry, bytes. */
export const READDIR_MAXCOUNT = 32 * 1024;

/** Statuses of GET_DIR_DELEGATION that mean "no directory delegations here" (§18.39.3). */
const NOT_GRANTED: ReadonlySet<number> = new Set([
  nfsstat4.NFS4ERR_NOTSUPP,
  nfsstat4.NFS4ERR_DIRDELEG_UNAVAIL,
  nfsstat4.NFS4ERR_OP_ILLEGAL,
]);

/** DELEGRETURN statuses that mean the delegation is gone already. */
const ALREADY_GONE: ReadonlySet<number> = new Set([
  nfsstat4.NFS4ERR_BAD_STATEID,
  nfsstat4.NFS4ERR_OLD_STATEID,
  nfsstat4.NFS4ERR_DELEG_REVOKED,
  nfsstat4.NFS4ERR_EXPIRED,
  nfsstat4.NFS4ERR_STALE,
]);

const FILEID = bitmapOf([FATTR4_FILEID]);

function check(reply: SessionReply, what: string): void {
  const err = failureOf(reply.res);
  if (err !== null) throw new NfsError(err.status, err.op, what);
}

function malformed(what: string): NfsError {
  return new NfsError(nfsstat4.NFS4ERR_SERVERFAULT, null, `${what}: malformed reply`);
}

function entriesOf(reply: SessionReply, what: string): { entries: DirectoryEntry[]; eof: boolean } {
  const r = resultOf(reply.resarray.at(-1), nfs_opnum4.OP_READDIR);
  if (r?.status !== nfsstat4.NFS4_OK) throw malformed(what);
  const entries = r.resok4.reply.entries.map((e) => ({
    name: nameOf(e.name),
    cookie: e.cookie,
    fileid: decodeAttributes(e.attrs).fileid ?? null,
  }));
  return { entries, eof: r.resok4.reply.eof };
}

/** The DirectoryServer of a client session. */
export class SessionDirectoryServer implements DirectoryServer {
  constructor(private readonly session: ClientSession) {}

  async resolve(path: string): Promise<ResolvedDirectory> {
    const names = path.split("/").filter((n) => n !== "");
    const { reply } = await retryOnDelay(() =>
      this.session.compound([
        ops.putrootfh(),
        ...names.map((n) => ops.lookup(n)),
        ops.getfh(),
        ops.getattr(bitmapOf([FATTR4_LEASE_TIME])),
      ]),
    );
    check(reply, `resolving ${path}`);
    const fh = resultOf(reply.resarray.at(-2), nfs_opnum4.OP_GETFH);
    const attrs = resultOf(reply.resarray.at(-1), nfs_opnum4.OP_GETATTR);
    if (fh?.status !== nfsstat4.NFS4_OK || attrs?.status !== nfsstat4.NFS4_OK)
      throw malformed(`resolving ${path}`);
    return {
      fh: new Uint8Array(fh.resok4.object),
      leaseSeconds: decodeAttributes(attrs.resok4.obj_attributes).leaseTime ?? null,
    };
  }

  async arm(fh: Uint8Array, request: ArmRequest): Promise<ArmResult> {
    const zero = new Uint8Array(NFS4_VERIFIER_SIZE);
    const { reply } = await retryOnDelay(() =>
      this.session.compound([
        ops.putfh(fh),
        ops.getDirDelegation(
          bitmapOf(request.types),
          request.childAttributes,
          request.dirAttributes,
          request.delay,
        ),
        ops.readdir(0n, zero, FILEID, READDIR_MAXCOUNT),
      ]),
    );
    const gdd = resultOf(reply.resarray[1], nfs_opnum4.OP_GET_DIR_DELEGATION);
    if (gdd === undefined) {
      check(reply, "GET_DIR_DELEGATION");
      throw malformed("GET_DIR_DELEGATION");
    }
    if (gdd.gddr_status !== nfsstat4.NFS4_OK) {
      if (NOT_GRANTED.has(gdd.gddr_status))
        return { granted: false, why: nfsstat4_names[gdd.gddr_status] ?? `${gdd.gddr_status}` };
      throw new NfsError(gdd.gddr_status, nfs_opnum4.OP_GET_DIR_DELEGATION);
    }
    const nf = gdd.gddr_res_non_fatal4;
    if (nf.gddrnf_status !== gddrnf4_status.GDD4_OK) return { granted: false, why: "GDD4_UNAVAIL" };
    const ok = nf.gddrnf_resok4;
    const stateid = { seqid: ok.gddr_stateid.seqid, other: new Uint8Array(ok.gddr_stateid.other) };
    try {
      check(reply, "READDIR");
      const entries = await this.listing(fh, reply);
      return {
        granted: true,
        armed: {
          stateid,
          cookieverf: new Uint8Array(ok.gddr_cookieverf),
          types: bitsOf(ok.gddr_notification),
          childAttributes: [...ok.gddr_child_attributes],
          dirAttributes: [...ok.gddr_dir_attributes],
          entries,
        },
      };
    } catch (e) {
      // No listing, no watch: do not leave the delegation behind.
      await this.giveBack(fh, stateid).catch(() => {});
      throw e;
    }
  }

  /** The whole listing: the first READDIR's entries and those of the READDIRs after it. */
  private async listing(fh: Uint8Array, first: SessionReply): Promise<DirectoryEntry[]> {
    let page = entriesOf(first, "READDIR");
    const out = [...page.entries];
    const verifierOf = (reply: SessionReply): Uint8Array => {
      const r = resultOf(reply.resarray.at(-1), nfs_opnum4.OP_READDIR);
      if (r?.status !== nfsstat4.NFS4_OK) throw malformed("READDIR");
      return new Uint8Array(r.resok4.cookieverf);
    };
    const verifier = verifierOf(first);
    while (!page.eof) {
      const last = out.at(-1);
      if (last?.cookie == null) throw malformed("READDIR (no entries and no eof)");
      const cookie = last.cookie;
      const { reply } = await retryOnDelay(() =>
        this.session.compound([
          ops.putfh(fh),
          ops.readdir(cookie, verifier, FILEID, READDIR_MAXCOUNT),
        ]),
      );
      check(reply, "READDIR");
      page = entriesOf(reply, "READDIR");
      out.push(...page.entries);
    }
    return out;
  }

  async giveBack(fh: Uint8Array, stateid: stateid4): Promise<void> {
    const { reply } = await retryOnDelay(() =>
      this.session.compound([ops.putfh(fh), ops.delegreturn(stateid)]),
    );
    const err = failureOf(reply.res);
    if (err !== null && !ALREADY_GONE.has(err.status))
      throw new NfsError(err.status, err.op, "DELEGRETURN");
  }

  async renew(): Promise<{ readonly recallableStateRevoked: boolean }> {
    const reply = await this.session.sequenceOnly();
    check(reply, "SEQUENCE");
    const flags = reply.sequence?.sr_status === nfsstat4.NFS4_OK ? this.session.statusFlags : 0;
    return { recallableStateRevoked: (flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED) !== 0 };
  }

  async isRevoked(stateid: stateid4): Promise<boolean> {
    const reply = await this.session.compound([ops.testStateid([stateid])]);
    check(reply, "TEST_STATEID");
    const r = resultOf(reply.resarray[0], nfs_opnum4.OP_TEST_STATEID);
    if (r?.tsr_status !== nfsstat4.NFS4_OK) throw malformed("TEST_STATEID");
    if (r.tsr_resok4.tsr_status_codes[0] === nfsstat4.NFS4_OK) return false;
    // FREE_STATEID lets the server forget it and clears the SEQUENCE flag (§8.2.4).
    await this.session.compound([ops.freeStateid(stateid)]);
    return true;
  }
}
