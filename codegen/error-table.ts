// The operation/error tables (spec/<module>-errors.txt): RFC 8881 §15.2/§15.3 and
// RFC 7862 §11.2/§11.3 as spec data. `parseErrorTables` reads the line format
// described at the top of spec/nfs4-errors.txt; `checkErrorTables` checks every
// name against the resolved XDR model (operations against the operation enum,
// errors against the status enum) and reports every problem at once as
// `file:line:col: message`, like the resolver.

import type { Pos } from "./ast.js";
import { XdrSpecError } from "./ast.js";
import type { Model } from "./resolve.js";
import { ResolveError } from "./resolve.js";

/** A name in the file, with where it starts. */
export interface Word {
  readonly text: string;
  readonly pos: Pos;
}

/** One operation's row: the RFC's operation name (no `OP_`) and its errors, in order. */
export interface ErrorRow {
  readonly op: Word;
  readonly errors: readonly Word[];
}

/** A `table` or `required` header and the rows after it, as written. */
export type ErrorSection =
  | {
      readonly kind: "table";
      readonly opEnum: Word;
      readonly statusEnum: Word;
      readonly mapName: Word;
      readonly predicate: Word;
      readonly rows: readonly ErrorRow[];
      readonly pos: Pos;
    }
  | {
      readonly kind: "required";
      readonly opEnum: Word;
      readonly mapName: Word;
      readonly rows: readonly ErrorRow[];
      readonly pos: Pos;
    };

export interface ErrorTableFile {
  readonly file: string;
  /** The spec module the tables belong to: `spec/nfs4-errors.txt` → `nfs4`. */
  readonly module: string;
  readonly sections: readonly ErrorSection[];
}

/** A row whose names were checked: enum member names, in the file's order. */
export interface CheckedRow {
  /** The operation enum's member, e.g. `OP_ACCESS`. */
  readonly op: string;
  readonly errors: readonly string[];
}

/** One operation enum's table, ready to emit. */
export interface CheckedTable {
  readonly opEnum: string;
  readonly statusEnum: string;
  /** The status enum's member with value 0 (NFS4_OK, RFC 8881 §15.1): allowed everywhere. */
  readonly ok: string;
  readonly mapName: string;
  readonly predicate: string;
  readonly rows: readonly CheckedRow[];
  /** Errors required by an operation's text although the table omits them. */
  readonly required: { readonly mapName: string; readonly rows: readonly CheckedRow[] } | null;
  readonly pos: Pos;
}

export interface CheckedErrorTables {
  readonly file: string;
  readonly module: string;
  readonly tables: readonly CheckedTable[];
}

const SUFFIX = "-errors.txt";
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The module an error-table file belongs to, or null if its name does not end in `-errors.txt`. */
export function errorTableModule(file: string): string | null {
  const base = file.slice(file.lastIndexOf("/") + 1);
  return base.endsWith(SUFFIX) ? base.slice(0, -SUFFIX.length) : null;
}

/** The names on one line (separated by white space and commas), with their columns. */
function words(line: string, file: string, lineNo: number): Word[] {
  const out: Word[] = [];
  for (const m of line.matchAll(/[^\s,]+/g))
    out.push({ text: m[0], pos: { file, line: lineNo, col: (m.index ?? 0) + 1 } });
  return out;
}

/** Parses the line format; syntax errors are collected and thrown together. */
export function parseErrorTables(text: string, file: string): ErrorTableFile {
  const module = errorTableModule(file);
  if (module === null) throw new Error(`codegen: ${file} is not a *${SUFFIX} file`);
  const errors: XdrSpecError[] = [];
  const sections: ErrorSection[] = [];
  // The rows of the current section and its last row, filled in place as lines are read.
  let rows: { op: Word; errors: Word[] }[] | null = null;
  let row: { op: Word; errors: Word[] } | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const lineNo = i + 1;
    const hash = raw.indexOf("#");
    const line = hash >= 0 ? raw.slice(0, hash) : raw;
    const ws = words(line, file, lineNo);
    const first = ws[0];
    if (first === undefined) return;
    for (const w of ws)
      if (!IDENT.test(w.text)) errors.push(new XdrSpecError(w.pos, `'${w.text}' is not a name`));
    if (first.pos.col > 1) {
      // A continuation of the row above.
      if (row === null)
        errors.push(new XdrSpecError(first.pos, "a continuation line with no row above it"));
      else row.errors.push(...ws);
      return;
    }
    if (first.text === "table" || first.text === "required") {
      const pos = first.pos;
      rows = [];
      row = null;
      const [, a, b, c, d] = ws;
      if (first.text === "table") {
        if (ws.length !== 5 || !a || !b || !c || !d)
          errors.push(
            new XdrSpecError(
              pos,
              "expected `table <operation enum> <status enum> <map name> <predicate name>`",
            ),
          );
        else
          sections.push({
            kind: "table",
            opEnum: a,
            statusEnum: b,
            mapName: c,
            predicate: d,
            rows,
            pos,
          });
      } else if (ws.length !== 3 || !a || !b)
        errors.push(new XdrSpecError(pos, "expected `required <operation enum> <map name>`"));
      else sections.push({ kind: "required", opEnum: a, mapName: b, rows, pos });
      return;
    }
    if (rows === null) {
      errors.push(new XdrSpecError(first.pos, "a row before any `table` or `required` header"));
      return;
    }
    row = { op: first, errors: ws.slice(1) };
    rows.push(row);
  });
  if (errors.length > 0) throw new ResolveError(errors);
  return { file, module, sections };
}

/** The members of enum `name` of the model, or null if it is not an enum. */
function enumMembers(model: Model, name: string): Readonly<Record<string, number>> | null {
  let t = model.types_by_name.get(name);
  while (t?.kind === "typedef" && t.type.kind === "ref") t = model.types_by_name.get(t.type.name);
  return t?.kind === "enum" ? t.members : null;
}

/** Checks every name of `parsed` against `model`; throws ResolveError listing every problem. */
export function checkErrorTables(parsed: ErrorTableFile, model: Model): CheckedErrorTables {
  const errors: XdrSpecError[] = [];
  const error = (pos: Pos, text: string): void => void errors.push(new XdrSpecError(pos, text));
  const at = (p: Pos): string => `${p.file}:${p.line}:${p.col}`;
  if (!model.modules.includes(parsed.module))
    error(
      { file: parsed.file, line: 1, col: 1 },
      `no spec/${parsed.module}.x defines the types these tables name`,
    );
  const exported = new Map<string, Pos>();
  const exportName = (w: Word): void => {
    const before = exported.get(w.text);
    if (before) error(w.pos, `'${w.text}' is already defined at ${at(before)}`);
    else exported.set(w.text, w.pos);
  };

  const enumNamed = (w: Word): Readonly<Record<string, number>> | null => {
    const members = enumMembers(model, w.text);
    if (members === null) error(w.pos, `'${w.text}' is not an enum of the spec`);
    return members;
  };

  /** The rows of one section, checked; `table` rows are needed for `required` ones. */
  const checkRows = (
    rows: readonly ErrorRow[],
    opEnum: string,
    ops: Readonly<Record<string, number>> | null,
    statusEnum: string,
    statuses: Readonly<Record<string, number>> | null,
    tableRows: ReadonlyMap<string, ReadonlySet<string>> | null,
  ): CheckedRow[] => {
    const seen = new Map<string, Pos>();
    const out: CheckedRow[] = [];
    for (const r of rows) {
      const op = `OP_${r.op.text}`;
      if (ops && !(op in ops))
        error(r.op.pos, `'${r.op.text}' is not an operation of ${opEnum} (it has no ${op})`);
      const before = seen.get(op);
      if (before) error(r.op.pos, `'${r.op.text}' already has a row at ${at(before)}`);
      else seen.set(op, r.op.pos);
      if (r.errors.length === 0) error(r.op.pos, `'${r.op.text}' lists no errors`);
      const inRow = new Set<string>();
      for (const e of r.errors) {
        if (statuses && !(e.text in statuses))
          error(e.pos, `'${e.text}' is not a member of ${statusEnum}`);
        else if (statuses?.[e.text] === 0)
          error(e.pos, `'${e.text}' is success, allowed to every operation: list only errors`);
        if (inRow.has(e.text)) error(e.pos, `'${e.text}' is listed twice in this row`);
        if (tableRows?.get(op)?.has(e.text))
          error(e.pos, `'${e.text}' is already in ${r.op.text}'s table row`);
        inRow.add(e.text);
      }
      out.push({ op, errors: r.errors.map((e) => e.text) });
    }
    return out;
  };

  const tables: CheckedTable[] = [];
  const byEnum = new Map<string, { table: CheckedTable; required: CheckedTable["required"] }>();
  for (const s of parsed.sections) {
    const ops = enumNamed(s.opEnum);
    exportName(s.mapName);
    if (s.kind === "table") {
      exportName(s.predicate);
      const statuses = enumNamed(s.statusEnum);
      const ok = statuses ? Object.entries(statuses).find(([, v]) => v === 0)?.[0] : undefined;
      if (statuses && ok === undefined)
        error(s.statusEnum.pos, `${s.statusEnum.text} has no success member (value 0)`);
      if (byEnum.has(s.opEnum.text)) {
        error(
          s.pos,
          `${s.opEnum.text} already has a table at ${at(byEnum.get(s.opEnum.text)!.table.pos)}`,
        );
        continue;
      }
      const rows = checkRows(s.rows, s.opEnum.text, ops, s.statusEnum.text, statuses, null);
      if (ops) {
        const listed = new Set(rows.map((r) => r.op));
        for (const m of Object.keys(ops))
          if (!listed.has(m)) error(s.pos, `table ${s.opEnum.text} has no row for ${m}`);
      }
      const table: CheckedTable = {
        opEnum: s.opEnum.text,
        statusEnum: s.statusEnum.text,
        ok: ok ?? "",
        mapName: s.mapName.text,
        predicate: s.predicate.text,
        rows,
        required: null,
        pos: s.pos,
      };
      byEnum.set(s.opEnum.text, { table, required: null });
      tables.push(table);
    } else {
      const owner = byEnum.get(s.opEnum.text);
      if (!owner) {
        error(s.pos, `\`required\` rows for ${s.opEnum.text} must follow its \`table\``);
        continue;
      }
      if (owner.required) {
        error(s.pos, `${s.opEnum.text} already has \`required\` rows`);
        continue;
      }
      const statuses = enumMembers(model, owner.table.statusEnum);
      const tableRows = new Map(owner.table.rows.map((r) => [r.op, new Set(r.errors)]));
      const rows = checkRows(
        s.rows,
        s.opEnum.text,
        ops,
        owner.table.statusEnum,
        statuses,
        tableRows,
      );
      owner.required = { mapName: s.mapName.text, rows };
    }
  }
  if (errors.length > 0) throw new ResolveError(errors);
  return {
    file: parsed.file,
    module: parsed.module,
    tables: tables.map((t) => ({ ...t, required: byEnum.get(t.opEnum)!.required })),
  };
}
