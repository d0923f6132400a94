// NFS4_PROGRAM version 4 as an RPC program: NULL and COMPOUND (RFC 8881 §16).

import {
  NFS4_PROGRAM,
  NFS_V4,
  NFSPROC4_COMPOUND,
  NFSPROC4_NULL,
} from "../../generated/nfs4/index.js";
import type { RpcCall, RpcOutcome, RpcProgram } from "../rpc/types.js";
import type { CompoundProcessor } from "./compound.js";

export class Nfs4Program implements RpcProgram {
  readonly prog = NFS4_PROGRAM;
  readonly lowVersion = NFS_V4;
  readonly highVersion = NFS_V4;

  constructor(private readonly compound: CompoundProcessor) {}

  async handle(call: RpcCall): Promise<RpcOutcome> {
    switch (call.proc) {
      case NFSPROC4_NULL:
        return { kind: "success", result: new Uint8Array(0) };
      case NFSPROC4_COMPOUND:
        return this.compound.process(call);
      default:
        return { kind: "proc_unavail" };
    }
  }
}
