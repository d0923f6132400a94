// typedef → a type alias and a codec pair for its declaration.

import { StructureKind } from "ts-morph";
import type { XdrType } from "../../src/xdr/meta.js";
import type { ResolvedType } from "../resolve.js";
import { decodeInto, encodeFrom, tsType } from "./declaration.js";
import type { Emitted, TypeContexts } from "./emitted.js";
import { decoderFunction, encoderFunction, sourceDoc } from "./emitted.js";

type Typedef = Extract<ResolvedType, { kind: "typedef" }>;

export function emitTypedef(
  ctx: TypeContexts,
  t: Typedef,
  minSize: (t: XdrType) => number,
): Emitted {
  const c = ctx.codec;
  return {
    types: [
      {
        kind: StructureKind.TypeAlias,
        isExported: true,
        name: t.name,
        docs: [sourceDoc(t.pos)],
        type: tsType(ctx.types, t.type),
      },
    ],
    codec: [
      decoderFunction(c, t.name, [...decodeInto(c, t.type, "value", minSize), "return value;"]),
      encoderFunction(c, t.name, encodeFrom(c, t.type, "v")),
    ],
  };
}
