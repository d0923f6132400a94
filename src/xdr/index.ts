// Public surface of the XDR runtime that generated encoders/decoders import.
export { XdrError, type XdrErrorCode } from "./error.js";
export { XdrReader } from "./reader.js";
export { XdrWriter } from "./writer.js";
export type {
  FieldMeta,
  ProcedureMeta,
  ProgramMeta,
  TypeMeta,
  UnionArmMeta,
  VersionMeta,
  XdrType,
} from "./meta.js";
export { XdrInterpreter } from "./interpreter.js";
