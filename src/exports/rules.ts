// The access rules of one export (exports(5) in Linux terms): which clients
// may reach it, whether it is read-only, how caller identities are squashed,
// and which RPC security flavors it accepts. Pure data and pure functions:
// the NFS layer (src/nfs/export-access.ts) applies them per request.

import { auth_flavor } from "../../generated/rpc/index.js";
import type { Credential } from "../rpc/types.js";
import { prefixContains, type AddressBytes, type AddressPrefix } from "./address.js";

/** Whose identity is replaced by the anonymous one: nobody, uid/gid 0 only, or everyone. */
export type SquashMode = "none" | "root" | "all";

/** Flavor names as the configuration spells them, and their numbers (RFC 5531). */
export const FLAVOR_NAMES: ReadonlyMap<string, number> = new Map([
  ["sys", auth_flavor.AUTH_SYS],
  ["none", auth_flavor.AUTH_NONE],
]);

export interface ExportRules {
  /** Client addresses/CIDRs allowed to see and use the export; null: every client. */
  readonly clients: readonly AddressPrefix[] | null;
  /** Every modifying operation answers NFS4ERR_ROFS. */
  readonly readOnly: boolean;
  readonly squash: SquashMode;
  /** The identity squashed callers get. */
  readonly anonUid: number;
  readonly anonGid: number;
  /** Accepted RPC auth flavors, in the order SECINFO offers them (most preferred first). */
  readonly flavors: readonly number[];
}

/** Linux's "nobody"/"nogroup", the exports(5) default for anonuid/anongid. */
export const DEFAULT_ANON_ID = 65534;

/**
 * Today's behaviour, and each rule's default: every client, read-write, no
 * squashing, AUTH_SYS then AUTH_NONE. (Linux nfsd defaults to root_squash
 * and sec=sys; this server keeps what its clients and tests already rely on,
 * and the README says how to tighten it.)
 */
export const DEFAULT_EXPORT_RULES: ExportRules = {
  clients: null,
  readOnly: false,
  squash: "none",
  anonUid: DEFAULT_ANON_ID,
  anonGid: DEFAULT_ANON_ID,
  flavors: [auth_flavor.AUTH_SYS, auth_flavor.AUTH_NONE],
};

/** True when a client at `address` (null: unknown) may reach an export with `rules`. */
export function allowsClient(rules: ExportRules, address: AddressBytes | null): boolean {
  if (rules.clients === null) return true;
  if (address === null) return false;
  return rules.clients.some((p) => prefixContains(p, address));
}

/**
 * The credential the export's rules make of `cred` (nfsd_setuser): "root"
 * maps uid 0 and gid 0 (primary and supplementary) to the anonymous ids,
 * "all" maps every caller to them with no supplementary groups. The
 * principal is left alone: it names the client for the session rules, not a
 * file owner. Returns `cred` itself when nothing changes.
 */
export function squashCredential(rules: ExportRules, cred: Credential): Credential {
  if (rules.squash === "none") return cred;
  if (rules.squash === "all") {
    if (cred.uid === rules.anonUid && cred.gid === rules.anonGid && cred.gids.length === 0)
      return cred;
    return { ...cred, uid: rules.anonUid, gid: rules.anonGid, gids: [] };
  }
  const rootGroup = cred.gid === 0 || cred.gids.includes(0);
  if (cred.uid !== 0 && !rootGroup) return cred;
  return {
    ...cred,
    uid: cred.uid === 0 ? rules.anonUid : cred.uid,
    gid: cred.gid === 0 ? rules.anonGid : cred.gid,
    gids: cred.gids.map((g) => (g === 0 ? rules.anonGid : g)),
  };
}
