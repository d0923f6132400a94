// fattr4 support: the supported-attribute table, encoding for GETATTR/READDIR,
// decoding of settable attributes, and bitmap4 helpers.
export * from "../../protocol/bitmap.js";
export * from "./decode.js";
export * from "./encode.js";
export * from "./open-arguments.js";
export * from "./table.js";
