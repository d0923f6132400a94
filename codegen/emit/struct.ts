// struct → an interface and a codec pair that read/write the fields in order.
// A list-element struct (last field `Self *next`) omits its link field: the
// chain is carried by the referring `T *` declaration as an array.

import { StructureKind } from "ts-morph";
import type { XdrType } from "../../src/xdr/meta.js";
import type { ResolvedType } from "../resolve.js";
import { localName } from "./context.js";
import { decodeInto, encodeFrom, tsType } from "./declaration.js";
import type { Emitted, TypeContexts } from "./emitted.js";
import { decoderFunction, encoderFunction, sourceDoc, tracked } from "./emitted.js";

type Struct = Extract<ResolvedType, { kind: "struct" }>;

export function emitStruct(ctx: TypeContexts, t: Struct, minSize: (t: XdrType) => number): Emitted {
  const c = ctx.codec;
  const decode: string[] = [];
  const encode: string[] = [];
  t.fields.forEach((f, i) => {
    if (i > 0) {
      decode.push(`at = ${JSON.stringify(f.name)};`);
      encode.push(`at = ${JSON.stringify(f.name)};`);
    }
    decode.push(...decodeInto(c, f.type, localName(f.name), minSize));
    encode.push(...encodeFrom(c, f.type, `v.${f.name}`));
  });
  const result = t.fields.map((f) =>
    localName(f.name) === f.name ? f.name : `${f.name}: ${localName(f.name)}`,
  );
  decode.push(`return { ${result.join(", ")} };`);
  const first = t.fields[0]?.name ?? "";
  const doc = t.link
    ? `An element of a list: the wire form's link field '${t.link}' is carried by the array that holds it.`
    : undefined;
  return {
    types: [
      {
        kind: StructureKind.Interface,
        isExported: true,
        name: t.name,
        docs: [sourceDoc(t.pos, doc)],
        properties: t.fields.map((f) => ({ name: f.name, type: tsType(ctx.types, f.type) })),
      },
    ],
    codec: [
      decoderFunction(c, t.name, tracked(c, first, decode)),
      encoderFunction(c, t.name, tracked(c, first, encode)),
    ],
  };
}
