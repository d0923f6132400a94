// The worked example of RFC 4506 §7: its XDR (test/vectors/rfc4506-example.x)
// goes through the real generator pipeline in-process (parseSpec → resolve →
// emitModule), the emitted TypeScript is written to a git-ignored scratch
// directory and imported, and the RFC's sample file must encode to exactly the
// 48 bytes the RFC lists, and decode back. The metadata-driven interpreter,
// fed the resolved model's metadata, must do the same.

import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "prettier";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedFile } from "../../codegen/emit/module.js";
import { emitModule } from "../../codegen/emit/module.js";
import { parseSpec } from "../../codegen/parser.js";
import type { Model } from "../../codegen/resolve.js";
import { resolve } from "../../codegen/resolve.js";
import type { TypeMeta } from "../../src/xdr/index.js";
import { XdrInterpreter, XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { catchXdr } from "../xdr/expect-xdr-error.js";
import { ascii, bytes, words } from "./hex.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const SPEC = "test/vectors/rfc4506-example.x";
/**
 * The module name the generator sees. It derives module names from spec file
 * names and uses them in identifiers (`<module>Types`), so a name with a "-"
 * would make it emit invalid TypeScript; the spec keeps the file name it was
 * given and the positions in the emitted comments still point at it.
 */
const MODULE = "rfc4506_example";
/** Where generated files import the XDR runtime from, relative to generated/<module>/. */
const RUNTIME = "../../src/xdr/index.js";

// The emitted module's surface, as far as these tests use it.
type FileType = { kind: 0 } | { kind: 1; creator: string } | { kind: 2; interpretor: string };
interface File {
  filename: string;
  type: FileType;
  owner: string;
  data: Uint8Array;
}
interface ExampleModule {
  readonly MAXUSERNAME: number;
  readonly MAXFILELEN: number;
  readonly MAXNAMELEN: number;
  readonly filekind: { readonly TEXT: 0; readonly DATA: 1; readonly EXEC: 2 };
  readonly file_MAXSIZE: number;
  readonly rfc4506_exampleTypes: Readonly<Record<string, TypeMeta>>;
  encodefile(w: XdrWriter, v: File): void;
  decodefile(r: XdrReader): File;
}

/** The RFC's sample value: the Lisp program "sillyprog". */
const SILLYPROG: File = {
  filename: "sillyprog",
  type: { kind: 2, interpretor: "lisp" },
  owner: "john",
  data: ascii("(quit)"),
};

/** RFC 4506 §7's table, byte for byte. */
const SILLYPROG_BYTES = bytes(
  /*  0 */ "00000009", // length of filename = 9
  /*  4 */ "7369 6c6c", // "sill": filename characters
  /*  8 */ "7970 726f", // "ypro": ... and more characters ...
  /* 12 */ "6700 0000", // "g": ... and 3 zero-bytes of fill
  /* 16 */ "00000002", // filekind is EXEC = 2
  /* 20 */ "00000004", // length of interpretor = 4
  /* 24 */ "6c69 7370", // "lisp": interpretor characters
  /* 28 */ "00000004", // length of owner = 4
  /* 32 */ "6a6f 686e", // "john": owner characters
  /* 36 */ "00000006", // length of file data = 6
  /* 40 */ "2871 7569", // "(qui": file data bytes ...
  /* 44 */ "7429 0000", // "t)": ... and 2 zero-bytes of fill
);

/** A DATA file, for the union's other non-void arm (not from the RFC). */
const NOTES: File = {
  filename: "notes",
  type: { kind: 1, creator: "vi" },
  owner: "",
  data: new Uint8Array(0),
};
const NOTES_BYTES = bytes(
  "00000005", // length of filename = 5
  "6e6f7465 73000000", // "notes" + 3 zero bytes of fill
  "00000001", // filekind is DATA = 1
  "00000002", // length of creator = 2
  "76690000", // "vi" + 2 zero bytes of fill
  "00000000", // length of owner = 0 (no characters, no fill)
  "00000000", // length of file data = 0
);

/** A TEXT file: the union's void arm (not from the RFC). */
const README: File = {
  filename: "README",
  type: { kind: 0 },
  owner: "ann",
  data: ascii("hi\n"),
};
const README_BYTES = bytes(
  "00000006", // length of filename = 6
  "52454144 4d450000", // "README" + 2 zero bytes of fill
  "00000000", // filekind is TEXT = 0: no further information
  "00000003", // length of owner = 3
  "616e6e00", // "ann" + 1 zero byte of fill
  "00000003", // length of file data = 3
  "68690a00", // "hi\n" + 1 zero byte of fill
);

const VECTORS: [string, File, Uint8Array][] = [
  ["the RFC's sillyprog (EXEC)", SILLYPROG, SILLYPROG_BYTES],
  ["a DATA file", NOTES, NOTES_BYTES],
  ["a TEXT file", README, README_BYTES],
];

let model: Model;
let files: GeneratedFile[];
let scratch: string;
let example: ExampleModule;

beforeAll(async () => {
  const parsed = parseSpec(readFileSync(join(root, SPEC), "utf8"), SPEC);
  model = resolve([parsed]);
  // The module name is the file name made an identifier.
  expect(model.modules).toEqual([MODULE]);
  const prettier = (await resolveConfig(join(root, "generated", "x.ts"))) ?? {};
  files = await emitModule(model, MODULE, prettier);

  // The emitted files import the runtime relative to generated/<module>/;
  // point that import at src/xdr/ from the scratch directory instead.
  mkdirSync(join(here, ".generated"), { recursive: true });
  scratch = mkdtempSync(join(here, ".generated", `${MODULE}-`));
  const moduleDir = join(scratch, MODULE);
  const runtime = relative(moduleDir, join(root, "src", "xdr", "index.js"))
    .split(sep)
    .join("/");
  for (const f of files) {
    const target = join(scratch, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.text.replaceAll(`"${RUNTIME}"`, JSON.stringify(runtime)));
  }
  example = (await import(join(moduleDir, "index.ts"))) as ExampleModule;
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  try {
    rmdirSync(join(here, ".generated")); // only if empty: another run may be using it
  } catch {
    // not empty, or already gone
  }
});

describe("RFC 4506 §7 through the code generator", () => {
  it("resolves the example as one module with the RFC's constants and types", () => {
    expect(model.modules).toEqual([MODULE]);
    expect(model.consts.map((c) => [c.name, c.value])).toEqual([
      ["MAXUSERNAME", 32n],
      ["MAXFILELEN", 65535n],
      ["MAXNAMELEN", 255n],
    ]);
    expect(model.types.map((t) => [t.name, t.kind])).toEqual([
      ["filekind", "enum"],
      ["filetype", "union"],
      ["file", "struct"],
    ]);
    expect(files.map((f) => f.path)).toEqual(
      ["types", "codec", "consts", "meta", "index"].map((n) => `${MODULE}/${n}.ts`),
    );
    // Positions in the emitted comments name the real spec file.
    expect(files[0]!.text).toContain(`From ${SPEC}:`);
    // The codec imports the runtime; the scratch copy imports it from src/xdr/.
    const codec = files.find((f) => f.path.endsWith("/codec.ts"))!;
    expect(codec.text).toContain(`from "${RUNTIME}"`);
    const copy = readFileSync(join(scratch, codec.path), "utf8");
    expect(copy).not.toContain(`"${RUNTIME}"`);
    expect(copy).toContain(`from "../../../../../src/xdr/index.js"`); // .generated/<tmp>/<module>/
  });

  it("emits the RFC's constants and the file's size bounds", () => {
    expect([example.MAXUSERNAME, example.MAXFILELEN, example.MAXNAMELEN]).toEqual([32, 65535, 255]);
    expect(example.filekind).toEqual({ TEXT: 0, DATA: 1, EXEC: 2 });
    // filename 4+255+1, filetype 4+(4+255+1), owner 4+32, data 4+65535+1.
    expect(example.file_MAXSIZE).toBe(260 + 264 + 36 + 65540);
  });

  for (const [name, value, expected] of VECTORS) {
    describe(name, () => {
      it("the emitted encoder produces the hand-written bytes", () => {
        const w = new XdrWriter(8);
        example.encodefile(w, value);
        expect(words(w.toBytes())).toEqual(words(expected));
      });
      it("the emitted decoder reads them back, consuming every byte", () => {
        const r = new XdrReader(expected);
        expect(example.decodefile(r)).toEqual(value);
        expect(r.remaining).toBe(0);
      });
      it("the interpreter, fed the resolved model's metadata, agrees", () => {
        const interpreter = new XdrInterpreter(metaOf(model));
        const w = new XdrWriter(8);
        interpreter.encode("file", w, value);
        expect(words(w.toBytes())).toEqual(words(expected));
        const r = new XdrReader(expected);
        expect(interpreter.decode("file", r)).toEqual(value);
        expect(r.remaining).toBe(0);
      });
    });
  }

  it("the RFC's listing is 48 bytes", () => {
    expect(SILLYPROG_BYTES.length).toBe(48);
  });

  it("the emitted metadata table is the resolved model's", () => {
    expect(example.rfc4506_exampleTypes).toEqual(metaOf(model));
  });

  it("the declared limits are enforced, naming the field", () => {
    const tooLong = { ...SILLYPROG, owner: "x".repeat(33) }; // MAXUSERNAME is 32
    const e = catchXdr(() => example.encodefile(new XdrWriter(), tooLong));
    expect(e.code).toBe("limit");
    expect(e.pathString).toBe("owner");
    expect(e.offset).toBe(28);
    // A filekind of 3 is no member of the enum.
    const bad = SILLYPROG_BYTES.slice();
    bad[19] = 3;
    const d = catchXdr(() => example.decodefile(new XdrReader(bad)));
    expect(d.code).toBe("enum");
    expect(d.pathString).toBe("type.kind");
    expect(d.offset).toBe(16);
    expect(d.value).toBe(3);
  });
});

/** The model's types as the metadata table emitMeta writes (positions and module dropped). */
function metaOf(m: Model): Record<string, TypeMeta> {
  const out: Record<string, TypeMeta> = {};
  for (const t of m.types) {
    const { module: _module, pos: _pos, ...meta } = t;
    out[t.name] = meta as TypeMeta;
  }
  return out;
}
