// The NFSv4.1 client's public surface. Typical use:
//
//   const client = await NfsClient.connect({ host: "127.0.0.1", port: 2049 });
//   await client.exchangeId("my-client");           // throws NfsError unless NFS4_OK
//   const session = await client.createSession();   // slot table from ca_maxrequests
//   const r = await session.compound([ops.putrootfh(), ops.getfh()], { cachethis: true });
//   if (r.status === nfsstat4.NFS4_OK) resultOf(r.resarray[1], nfs_opnum4.OP_GETFH);
//   await session.destroy();
//   await client.close();
export { NfsClient } from "./client.js";
export type { CreateSessionOptions, NfsClientOptions, SysCredential } from "./client.js";
export { ClientSession, failureOf, slotOutcomeOf } from "./session.js";
export type { CompoundOptions, RawReply, SessionHost, SessionReply } from "./session.js";
export { ClientSlotTable, MAX_CLIENT_SLOTS } from "./slots.js";
export type { ClientSlot, SlotOutcome } from "./slots.js";
export { ClientConnection, isTransportFailure } from "./transport.js";
export { NfsClientClosedError, NfsError } from "./errors.js";
export { callbackProgram, defaultCallbackHandler, recallingCallbackHandler } from "./callback.js";
export type { CallbackCallInfo, CallbackHandler, RecallListener } from "./callback.js";
export {
  DEFAULT_DELAY_RETRY,
  READ_CHUNK,
  WRITE_CHUNK,
  closeFile,
  openFile,
  readFile,
  retryOnDelay,
  returnDelegation,
  truncateFile,
  writeFile,
} from "./files.js";
export type { DelayRetry, OpenFile, OpenFileOptions, Retried, Sleep } from "./files.js";
export { CallbackRouter } from "./callback-router.js";
export type { CallbackRouterOptions, DelegationListener, Notification } from "./callback-router.js";
export { ATTRIBUTE_NAMES, attributeBit, decodeAttributes, isAttributeName } from "./attrs.js";
export type { AttributeName, Attributes } from "./attrs.js";
export { decodeChanges } from "./notify.js";
export type { DirectoryChange, RemovedEntry } from "./notify.js";
export {
  DEFAULT_MAX_QUEUED_EVENTS,
  DEFAULT_REARM_DELAY_MS,
  DEFAULT_REARM_RETRY,
  DEFAULT_WATCH_ATTRIBUTES,
  DEFAULT_WATCH_TYPES,
  DirectoryWatch,
  openWatchSession,
  watch,
} from "./watch.js";
export type { WatchOptions, WatchSession } from "./watch.js";
export {
  DirectoryNotificationsUnavailableError,
  NONE_GRANTED,
  WATCH_TYPES,
  WATCH_TYPE_BITS,
  isWatchType,
} from "./watch-events.js";
export type { EndReason, WatchEvent, WatchType } from "./watch-events.js";
export { DirectorySnapshot } from "./watch-snapshot.js";
export { READDIR_MAXCOUNT, SessionDirectoryServer } from "./watch-server.js";
export type {
  ArmRequest,
  ArmResult,
  Armed,
  DirectoryEntry,
  DirectoryServer,
  ResolvedDirectory,
} from "./watch-server.js";
export { cbStatusOf, resultOf, statusOf } from "../protocol/results.js";
export type { ResultOf } from "../protocol/results.js";
export * as ops from "./ops.js";
