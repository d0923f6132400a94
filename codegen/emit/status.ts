// The status of a result union and complete results for a status:
// - `status<U>(v)`: the status (nfsstat4) of any arm of result union U, wherever
//   that arm's result keeps it (status, sr_status, eir_status, …);
// - `error<R>(status)` for each result type R: an R carrying `status` that the
//   generated encoder accepts — for a struct, zero values in its other fields
//   (SETATTR4res's attrsset: []); for a union, the arm the status selects, with
//   a zero value in it (LOCK4res's NFS4ERR_DENIED arm gets a zero LOCK4denied);
// - `error<U>(d, status)`: operation d's result carrying `status`, as a U.
// RFC 8881 §16.2.3: the operation that fails still has its result in the reply,
// so that result must encode as its type whatever the error.

import type { FunctionDeclarationStructure, StatementStructures } from "ts-morph";
import { StructureKind } from "ts-morph";
import type { XdrType } from "../../src/xdr/meta.js";
import { armKeys, caseLabels } from "./arms.js";
import type { FileContext } from "./context.js";
import { localName } from "./context.js";
import type { DispatchUnion, ResultType } from "./dispatch.js";
import { memberName, resultType } from "./dispatch.js";
import type { ZeroValues } from "./zero.js";

/** The result type carried by arm type `t` of result union `d`. */
function armResult(ctx: FileContext, d: DispatchUnion, t: XdrType): ResultType {
  const r = t.kind === "ref" && d.status !== null ? resultType(ctx.model, t.name, d.status) : null;
  if (r === null) throw new Error(`codegen: an arm of ${d.union.name} is not a result`);
  return r;
}

/** `error<R>(status)`: a complete R carrying `status`. */
function errorBuilder(
  ctx: FileContext,
  zeros: ZeroValues,
  r: ResultType,
  status: string,
): FunctionDeclarationStructure {
  const t = r.type;
  const statusType = ctx.typeName(status);
  const statusField = r.field === "status" ? "status" : `${r.field}: status`;
  let statements: string[];
  if (t.kind === "struct") {
    const fields = t.fields.map((f) =>
      f.name === r.field ? statusField : `${f.name}: ${zeros.expr(f.type)}`,
    );
    statements = [`return { ${fields.join(", ")} };`];
  } else {
    const e = ctx.type(status);
    if (e.kind !== "enum") throw new Error(`codegen: ${status} is not an enum`);
    const arm = (a: { name: string | null; type: XdrType }): string =>
      `return { ${statusField}${a.name === null ? "" : `, ${a.name}: ${zeros.expr(a.type)}`} };`;
    statements = ["switch (status) {"];
    for (const a of t.arms)
      statements.push(
        ...a.values.map((v) => `case ${String(v)}: // ${memberName(e, Number(v))}`),
        arm(a),
      );
    statements.push("default:");
    if (t.defaultArm) statements.push(arm(t.defaultArm));
    else {
      // No arm for this status: the encoder would refuse it, so refuse it here.
      const err = ctx.runtime("XdrError", false);
      statements.push(
        `throw new ${err}("discriminant", \`${t.name} has no arm for ${r.field} = \${status}\`, 0, status);`,
      );
    }
    statements.push("}");
  }
  return {
    kind: StructureKind.Function,
    isExported: true,
    name: `error${t.name}`,
    docs: [
      t.kind === "struct"
        ? `A ${t.name} carrying \`status\`, its other fields zero.`
        : `A ${t.name} carrying \`status\` in the arm the status selects, with a zero value in it.`,
    ],
    parameters: [{ name: "status", type: statusType }],
    returnType: ctx.typeName(t.name),
    statements,
  };
}

/**
 * The status accessor and the builders of result union `d`; `built` holds the
 * result types whose builder another union already emitted.
 */
export function emitStatus(
  ctx: FileContext,
  zeros: ZeroValues,
  d: DispatchUnion,
  built: Set<string>,
): StatementStructures[] {
  const status = d.status;
  if (status === null) return [];
  const u = d.union;
  const name = u.name;
  const dn = u.discriminant.name;
  const p = localName(dn);
  const field = p === dn ? dn : `${dn}: ${p}`;
  const statusType = ctx.typeName(status);
  const out: StatementStructures[] = [];

  const accessor: string[] = [`switch (v.${dn}) {`];
  const builder: string[] = [`switch (${p}) {`];
  for (const a of u.arms) {
    const r = armResult(ctx, d, a.type);
    accessor.push(...caseLabels(d, a.values), `return v.${a.name!}.${r.field};`);
    builder.push(
      ...caseLabels(d, a.values),
      `return { ${field}, ${a.name!}: error${r.type.name}(status) };`,
    );
    if (!built.has(r.type.name)) {
      built.add(r.type.name);
      out.push(errorBuilder(ctx, zeros, r, status));
    }
  }
  accessor.push("}");
  builder.push("}");
  const keys = armKeys(ctx, d);
  out.unshift(
    {
      kind: StructureKind.Function,
      isExported: true,
      name: `status${name}`,
      docs: [`The ${status} of any ${name}, wherever its arm's result keeps it.`],
      parameters: [{ name: "v", type: ctx.typeName(name) }],
      returnType: statusType,
      statements: accessor,
    },
    {
      kind: StructureKind.Function,
      isExported: true,
      name: `error${name}`,
      docs: [
        `Operation \`${p}\`'s complete result carrying \`status\` (see the error<result> builders), as a ${name}.`,
      ],
      parameters: [
        { name: p, type: keys },
        { name: "status", type: statusType },
      ],
      returnType: ctx.typeName(name),
      statements: builder,
    },
  );
  return out;
}
