// The events of a directory watch (watch.ts) and the notification types it
// asks for (notify_type4, RFC 8881 §20.4).

import { notify_type4 } from "../../generated/nfs4/index.js";
import type { Attributes } from "./attrs.js";

/** The notification types a watch can ask for (notify_type4, §20.4). */
export type WatchType =
  "child-attributes" | "directory-attributes" | "remove" | "add" | "rename" | "verifier";

export const WATCH_TYPE_BITS: Readonly<Record<WatchType, number>> = {
  "child-attributes": notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS,
  "directory-attributes": notify_type4.NOTIFY4_CHANGE_DIR_ATTRS,
  remove: notify_type4.NOTIFY4_REMOVE_ENTRY,
  add: notify_type4.NOTIFY4_ADD_ENTRY,
  rename: notify_type4.NOTIFY4_RENAME_ENTRY,
  verifier: notify_type4.NOTIFY4_CHANGE_COOKIE_VERIFIER,
};

export const WATCH_TYPES: readonly WatchType[] = [
  "add",
  "remove",
  "rename",
  "child-attributes",
  "directory-attributes",
  "verifier",
];

export function isWatchType(s: string): s is WatchType {
  return s in WATCH_TYPE_BITS;
}

/** Why a watch ended. */
export type EndReason =
  /** close(), break or return() of the iteration. */
  | "stopped"
  /** The AbortSignal fired. */
  | "aborted"
  /** maxQueuedEvents events waited for the consumer. */
  | "overflow"
  /** After a recall, the server would not grant the delegation again. */
  | "rearm-failed"
  /** A request failed (the connection, the session, the directory went away). */
  | "error";

export type WatchEvent =
  | {
      readonly type: "added";
      readonly name: string;
      readonly cookie: bigint | null;
      readonly attrs: Attributes | null;
      /** True when the entry replaced one of the same name (a rename over it). */
      readonly replaced: boolean;
      /** "notification": from CB_NOTIFY; "resync": found by re-reading after a recall. */
      readonly via: "notification" | "resync";
    }
  | { readonly type: "removed"; readonly name: string; readonly via: "notification" | "resync" }
  | {
      readonly type: "renamed";
      readonly from: string;
      readonly to: string;
      /** True when `to` existed and was replaced. */
      readonly replaced: boolean;
    }
  | {
      readonly type: "attributes";
      /** A child's attributes, or the directory's own. */
      readonly target: "child" | "directory";
      /** The child's name; "" for the directory. */
      readonly name: string;
      readonly attrs: Attributes;
    }
  | { readonly type: "verifier" }
  | {
      readonly type: "recalled";
      /** "recall": CB_RECALL; "revoked": the server revoked it; "undecodable": a CB_NOTIFY we could not read. */
      readonly cause: "recall" | "revoked" | "undecodable";
    }
  | { readonly type: "ended"; readonly reason: EndReason; readonly detail: string };

/** DirectoryNotificationsUnavailableError's `why` when a delegation came without any asked type. */
export const NONE_GRANTED = "none of the asked types granted";

/** The server grants no directory delegation, or none with the notification types asked for. */
export class DirectoryNotificationsUnavailableError extends Error {
  /** What the server answered: a status name, "GDD4_UNAVAIL", or NONE_GRANTED. */
  readonly why: string;

  constructor(path: string, why: string) {
    super(
      why === NONE_GRANTED
        ? `${path}: the server did not grant the notification types asked for`
        : `${path}: the server does not support directory delegations with notifications (${why})`,
    );
    this.name = "DirectoryNotificationsUnavailableError";
    this.why = why;
  }
}
