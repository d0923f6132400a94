// Public surface of the RPC transport. Programs (src/nfs) need RpcServer, the
// types of the contract, the backchannel errors and the credential helpers.
export type {
  Credential,
  OutgoingCall,
  RpcCall,
  RpcConnection,
  RpcOutcome,
  RpcProgram,
  NullCall,
} from "./types.js";
export { DEFAULT_RPC_SETTINGS, MAX_FRAGMENT_LENGTH, resolveRpcSettings } from "./settings.js";
export type { RpcSettings } from "./settings.js";
export { RpcServer } from "./server.js";
export type { ConnectionStats, RpcServerStats } from "./server.js";
export { ConnectionOutput, OutputBudget } from "./output.js";
export type { BudgetStats, OutputStats, ReplyLedger } from "./output.js";
export type { BoundAddress, ListenAddress, RpcServerEvents, RpcServerOptions } from "./server.js";
export {
  RpcConnectionClosedError,
  RpcReplyError,
  RpcTimeoutError,
  describeReply,
} from "./errors.js";
export {
  AUTH_NONE_CREDENTIAL,
  AUTH_NONE_OUTGOING,
  NOBODY,
  authSysCredential,
  authenticate,
  parseAuthSys,
} from "./auth.js";
export type { AuthResult, AuthSysParams } from "./auth.js";
export {
  LAST_FRAGMENT,
  MIN_PLACED_READ,
  RecordAssembler,
  RecordError,
  STAGING_SIZE,
  frameRecord,
  recordMark,
} from "./record.js";
export { NULL_PROC } from "./dispatch.js";
export {
  REPLY_HEADER_BYTES,
  RPC_VERSION,
  decodeMessage,
  encodeCall,
  encodeReply,
} from "./message.js";
export type { InboundMessage } from "./message.js";
