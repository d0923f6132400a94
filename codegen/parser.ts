// The parser for XDR specifications (RFC 4506 §6.3) with RPC program
// definitions (RFC 5531 §12.2). It builds the AST of ast.ts directly and stops
// at the first error. Names are not resolved here; that is the resolver's job.
//
// Error messages: every CONSUME, OR and AT_LEAST_ONE that can fail carries an
// ERR_MSG that says, in plain words, what was expected *and where* ("expected
// ';' after the declaration of 'foo'"); `toSpecError` appends what was found.
// Because this is an embedded-actions parser the messages may use names parsed
// moments earlier. While Chevrotain records the grammar (once, at module load)
// the rules run on placeholder tokens and results, so rule bodies only read
// properties for messages and keep real checks inside ACTION.

import { EmbeddedActionsParser, EOF, tokenMatcher } from "chevrotain";
import type {
  IParserErrorMessageProvider,
  IRecognitionException,
  IToken,
  TokenType,
} from "chevrotain";
import { XdrSpecError } from "./ast.js";
import type {
  Declaration,
  Definition,
  EnumBody,
  EnumMember,
  Pos,
  ProcedureDef,
  Specification,
  StructBody,
  TypeSpec,
  UnionBody,
  UnionCase,
  Value,
  VersionDef,
} from "./ast.js";
import {
  allTokens,
  Bool,
  Case,
  Colon,
  Comma,
  Const,
  Default,
  Double,
  Enum,
  Equals,
  Float,
  Hyper,
  Identifier,
  Int,
  IntegerLiteral,
  Keyword,
  LAngle,
  LCurly,
  LParen,
  LSquare,
  Opaque,
  parseIntegerLiteral,
  Passthrough,
  Program,
  Quadruple,
  RAngle,
  RCurly,
  RParen,
  RSquare,
  Semi,
  Star,
  StringKw,
  Struct,
  Switch,
  tokenize,
  tokenPos,
  Typedef,
  Union,
  Unsigned,
  Version,
  Void,
} from "./lexer.js";

// --- Describing things in messages ------------------------------------------

/** What a token looks like to the reader of an error message. */
function describeToken(token: IToken): string {
  if (token.tokenType === EOF) return "end of file";
  if (token.tokenType === Passthrough) return "a '%' pass-through line";
  if (tokenMatcher(token, Keyword)) return `keyword '${token.image}'`;
  return `'${token.image}'`;
}

/** How a type appears in "after ..." phrases. */
function describeType(type: TypeSpec): string {
  switch (type.kind) {
    case "int":
    case "hyper":
      return type.unsigned ? `'unsigned ${type.kind}'` : `'${type.kind}'`;
    case "float":
    case "double":
    case "quadruple":
    case "bool":
      return `'${type.kind}'`;
    case "enum":
    case "struct":
    case "union":
      return `the inline ${type.kind}`;
    case "ref":
      return `'${type.name}'`;
  }
}

function describeDecl(decl: Declaration): string {
  return decl.kind === "void" ? "'void'" : `the declaration of '${decl.name}'`;
}

function tokenLabel(type: TokenType): string {
  return type === EOF ? "end of file" : (type.LABEL ?? type.name);
}

/** "'a'", "'a' or 'b'", "'a', 'b' or 'c'". */
function oneOf(types: readonly TokenType[]): string {
  const labels = [...new Set(types.map(tokenLabel))];
  if (labels.length <= 1) return labels[0] ?? "something else";
  return `${labels.slice(0, -1).join(", ")} or ${labels[labels.length - 1]!}`;
}

/**
 * Chevrotain's fallbacks, used only where no ERR_MSG was given (which the
 * grammar below avoids wherever a failure is possible). The ", found ..." part
 * is added by `toSpecError` for every kind of error alike.
 */
const parserErrors: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected }) => `expected ${tokenLabel(expected)}`,
  buildNotAllInputParsedMessage: () =>
    "expected a definition (const, typedef, enum, struct, union or program)",
  buildNoViableAltMessage: ({ expectedPathsPerAlt, customUserDescription }) =>
    customUserDescription ?? `expected ${oneOf(expectedPathsPerAlt.flat(2))}`,
  buildEarlyExitMessage: ({ expectedIterationPaths, customUserDescription }) =>
    customUserDescription ?? `expected ${oneOf(expectedIterationPaths.flat())}`,
};

// --- The grammar --------------------------------------------------------------

class XdrParser extends EmbeddedActionsParser {
  /** The file being parsed, stamped on every Pos. */
  private file = "";

  constructor() {
    // The grammar is LL(1); saying so makes Chevrotain reject any ambiguity
    // introduced by a future edit at load time.
    super(allTokens, { maxLookahead: 1, errorMessageProvider: parserErrors });
    this.performSelfAnalysis();
  }

  /** Parses a whole token stream; throws XdrSpecError on the first error. */
  parse(tokens: IToken[], file: string): Definition[] {
    this.file = file;
    this.input = tokens;
    const definitions = this.specification();
    const [error] = this.errors;
    if (error !== undefined) throw toSpecError(error, tokens, file);
    return definitions;
  }

  private at(token: IToken): Pos {
    return tokenPos(token, this.file);
  }

  /** An error about the next token, phrased like the grammar's own. */
  private unexpected(expected: string): XdrSpecError {
    const next = this.LA(1);
    return new XdrSpecError(this.at(next), `${expected}, found ${describeToken(next)}`);
  }

  // specification: definition*
  private readonly specification = this.RULE("specification", (): Definition[] => {
    const definitions: Definition[] = [];
    this.MANY(() => {
      definitions.push(this.SUBRULE(this.definition));
    });
    return definitions;
  });

  private readonly definition = this.RULE("definition", (): Definition =>
    this.OR<Definition>([
      { ALT: () => this.SUBRULE(this.constDef) },
      { ALT: () => this.SUBRULE(this.typedefDef) },
      { ALT: () => this.SUBRULE(this.enumDef) },
      { ALT: () => this.SUBRULE(this.structDef) },
      { ALT: () => this.SUBRULE(this.unionDef) },
      { ALT: () => this.SUBRULE(this.programDef) },
      { ALT: () => this.SUBRULE(this.passthrough) },
    ]),
  );

  private readonly passthrough = this.RULE("passthrough", (): Definition => {
    const line = this.CONSUME(Passthrough);
    return { kind: "passthrough", text: line.image.slice(1), pos: this.at(line) };
  });

  // const NAME = constant ;   (RFC 4506 allows only a literal here)
  private readonly constDef = this.RULE("constDef", (): Definition => {
    const start = this.CONSUME(Const);
    const name = this.CONSUME(Identifier, { ERR_MSG: "expected a name after 'const'" }).image;
    this.CONSUME(Equals, { ERR_MSG: `expected '=' after 'const ${name}'` });
    const literal = this.CONSUME(IntegerLiteral, {
      ERR_MSG: `expected an integer constant as the value of '${name}'`,
    });
    this.CONSUME(Semi, { ERR_MSG: `expected ';' after the definition of constant '${name}'` });
    return { kind: "const", name, value: this.literal(literal), pos: this.at(start) };
  });

  // typedef declaration ;
  private readonly typedefDef = this.RULE("typedefDef", (): Definition => {
    const start = this.CONSUME(Typedef);
    const decl = this.SUBRULE(this.declaration, { ARGS: ["expected a type after 'typedef'"] });
    this.ACTION(() => {
      if (decl.kind === "void") throw new XdrSpecError(decl.pos, "a typedef cannot declare 'void'");
    });
    this.CONSUME(Semi, { ERR_MSG: `expected ';' after ${describeDecl(decl)}` });
    return { kind: "typedef", decl, pos: this.at(start) };
  });

  // enum NAME enum-body ;
  private readonly enumDef = this.RULE("enumDef", (): Definition => {
    const start = this.CONSUME(Enum);
    const name = this.CONSUME(Identifier, { ERR_MSG: "expected a name after 'enum'" }).image;
    const body = this.SUBRULE(this.enumBody, { ARGS: [`enum '${name}'`] });
    this.CONSUME(Semi, { ERR_MSG: `expected ';' after the definition of enum '${name}'` });
    return { kind: "enum", name, body, pos: this.at(start) };
  });

  // struct NAME struct-body ;
  private readonly structDef = this.RULE("structDef", (): Definition => {
    const start = this.CONSUME(Struct);
    const name = this.CONSUME(Identifier, { ERR_MSG: "expected a name after 'struct'" }).image;
    const body = this.SUBRULE(this.structBody, { ARGS: [`struct '${name}'`] });
    this.CONSUME(Semi, { ERR_MSG: `expected ';' after the definition of struct '${name}'` });
    return { kind: "struct", name, body, pos: this.at(start) };
  });

  // union NAME union-body ;
  private readonly unionDef = this.RULE("unionDef", (): Definition => {
    const start = this.CONSUME(Union);
    const name = this.CONSUME(Identifier, { ERR_MSG: "expected a name after 'union'" }).image;
    const body = this.SUBRULE(this.unionBody, { ARGS: [`union '${name}'`] });
    this.CONSUME(Semi, { ERR_MSG: `expected ';' after the definition of union '${name}'` });
    return { kind: "union", name, body, pos: this.at(start) };
  });

  // --- Bodies (`what` names the enclosing type in messages, e.g. "struct 'foo'")

  // { NAME = value (, NAME = value)* }
  private readonly enumBody = this.RULE("enumBody", (what: string): EnumBody => {
    this.CONSUME(LCurly, { ERR_MSG: `expected '{' to begin the body of ${what}` });
    const members = [this.SUBRULE1(this.enumMember, { ARGS: [what] })];
    this.MANY(() => {
      this.CONSUME(Comma);
      members.push(this.SUBRULE2(this.enumMember, { ARGS: [what] }));
    });
    this.CONSUME(RCurly, { ERR_MSG: `expected ',' or '}' in ${what}` });
    return { members };
  });

  private readonly enumMember = this.RULE("enumMember", (what: string): EnumMember => {
    const name = this.CONSUME(Identifier, { ERR_MSG: `expected a member name in ${what}` });
    this.CONSUME(Equals, { ERR_MSG: `expected '=' after enum member '${name.image}'` });
    const value = this.SUBRULE(this.value, {
      ARGS: [`expected a number or constant name as the value of '${name.image}'`],
    });
    return { name: name.image, value, pos: this.at(name) };
  });

  // { (declaration ;)+ }
  private readonly structBody = this.RULE("structBody", (what: string): StructBody => {
    this.CONSUME(LCurly, { ERR_MSG: `expected '{' to begin the body of ${what}` });
    const fields: Declaration[] = [];
    this.AT_LEAST_ONE({
      ERR_MSG: `expected a field declaration in ${what}`,
      DEF: () => {
        fields.push(this.SUBRULE(this.field, { ARGS: [what] }));
      },
    });
    this.CONSUME(RCurly, { ERR_MSG: `expected another field or '}' to close ${what}` });
    return { fields };
  });

  private readonly field = this.RULE("field", (what: string): Declaration => {
    const decl = this.SUBRULE(this.declaration, {
      ARGS: [`expected a field declaration in ${what}`],
    });
    this.ACTION(() => {
      if (decl.kind === "void")
        throw new XdrSpecError(decl.pos, `${what} cannot have a 'void' field`);
    });
    this.CONSUME(Semi, { ERR_MSG: `expected ';' after ${describeDecl(decl)}` });
    return decl;
  });

  // switch ( declaration ) { case-spec+ [default : declaration ;] }
  private readonly unionBody = this.RULE("unionBody", (what: string): UnionBody => {
    this.CONSUME(Switch, { ERR_MSG: `expected 'switch' to begin the body of ${what}` });
    this.CONSUME(LParen, { ERR_MSG: "expected '(' after 'switch'" });
    const discriminant = this.SUBRULE(this.declaration, {
      ARGS: [`expected the discriminant of ${what}, such as 'int kind'`],
    });
    this.ACTION(() => {
      if (discriminant.kind !== "plain") {
        const message = `the discriminant of ${what} must be a single value such as 'int kind'`;
        throw new XdrSpecError(discriminant.pos, message);
      }
    });
    this.CONSUME(RParen, { ERR_MSG: `expected ')' after the discriminant of ${what}` });
    this.CONSUME(LCurly, { ERR_MSG: `expected '{' after the discriminant of ${what}` });
    const cases: UnionCase[] = [];
    this.AT_LEAST_ONE({
      ERR_MSG: `expected 'case' in ${what}`,
      DEF: () => {
        cases.push(this.SUBRULE(this.unionCase));
      },
    });
    const defaultArm = this.OPTION(() => this.SUBRULE(this.defaultArm)) ?? null;
    this.CONSUME(RCurly, {
      ERR_MSG:
        defaultArm === null
          ? `expected 'case', 'default' or '}' in ${what}`
          : `expected '}' after the default arm of ${what}`,
    });
    return { discriminant, cases, defaultArm };
  });

  // (case value :)+ declaration ;
  private readonly unionCase = this.RULE("unionCase", (): UnionCase => {
    const start = this.LA(1);
    const labels: Value[] = [];
    this.AT_LEAST_ONE(() => {
      this.CONSUME(Case);
      labels.push(
        this.SUBRULE(this.value, { ARGS: ["expected a number or constant name after 'case'"] }),
      );
      this.CONSUME(Colon, { ERR_MSG: `expected ':' after 'case ${this.LA(0).image}'` });
    });
    const arm = this.SUBRULE(this.declaration, {
      ARGS: ["expected a declaration or 'void' after the case label"],
    });
    this.CONSUME(Semi, { ERR_MSG: `expected ';' after ${describeDecl(arm)}` });
    return { labels, arm, pos: this.at(start) };
  });

  // default : declaration ;
  private readonly defaultArm = this.RULE("defaultArm", (): Declaration => {
    this.CONSUME(Default);
    this.CONSUME(Colon, { ERR_MSG: "expected ':' after 'default'" });
    const arm = this.SUBRULE(this.declaration, {
      ARGS: ["expected a declaration or 'void' after 'default:'"],
    });
    this.CONSUME(Semi, { ERR_MSG: `expected ';' after ${describeDecl(arm)}` });
    return arm;
  });

  // --- Declarations (`expected` is the message if none starts here) ------------

  private readonly declaration = this.RULE("declaration", (expected: string): Declaration =>
    this.OR<Declaration>({
      ERR_MSG: expected,
      DEF: [
        { ALT: () => this.SUBRULE(this.opaqueDecl) },
        { ALT: () => this.SUBRULE(this.stringDecl) },
        { ALT: () => ({ kind: "void", pos: this.at(this.CONSUME(Void)) }) },
        { ALT: () => this.SUBRULE(this.typedDecl) },
      ],
    }),
  );

  // opaque NAME [size] | opaque NAME <max>
  private readonly opaqueDecl = this.RULE("opaqueDecl", (): Declaration => {
    const pos = this.at(this.CONSUME(Opaque));
    const name = this.CONSUME(Identifier, { ERR_MSG: "expected a name after 'opaque'" }).image;
    return this.OR<Declaration>({
      ERR_MSG: `expected '[' or '<' after 'opaque ${name}'`,
      DEF: [
        {
          ALT: () => {
            const size = this.SUBRULE(this.fixedSize, { ARGS: [name] });
            return { kind: "opaqueFixed", name, size, pos };
          },
        },
        {
          ALT: () => {
            const max = this.SUBRULE(this.maxSize, { ARGS: [name, ""] });
            return { kind: "opaqueVar", name, max, pos };
          },
        },
      ],
    });
  });

  // string NAME <max>   (a fixed-length string does not exist in XDR)
  private readonly stringDecl = this.RULE("stringDecl", (): Declaration => {
    const pos = this.at(this.CONSUME(StringKw));
    const name = this.CONSUME(Identifier, { ERR_MSG: "expected a name after 'string'" }).image;
    const open = `expected '<' after 'string ${name}' (strings are variable-length only)`;
    const max = this.SUBRULE(this.maxSize, { ARGS: [name, open] });
    return { kind: "string", name, max, pos };
  });

  // TYPE NAME | TYPE NAME [size] | TYPE NAME <max> | TYPE * NAME
  private readonly typedDecl = this.RULE("typedDecl", (): Declaration => {
    const type = this.SUBRULE(this.typeSpec, { ARGS: ["expected a type"] });
    const pos = type.pos;
    return this.OR1<Declaration>({
      ERR_MSG: `expected a name or '*' after ${describeType(type)}`,
      DEF: [
        {
          ALT: () => {
            this.CONSUME(Star);
            const name = this.CONSUME1(Identifier, { ERR_MSG: "expected a name after '*'" }).image;
            return { kind: "optional", name, type, pos };
          },
        },
        {
          ALT: () => {
            const name = this.CONSUME2(Identifier).image;
            return this.OR2<Declaration>([
              {
                ALT: () => {
                  const size = this.SUBRULE(this.fixedSize, { ARGS: [name] });
                  return { kind: "fixedArray", name, type, size, pos };
                },
              },
              {
                ALT: () => {
                  const max = this.SUBRULE(this.maxSize, { ARGS: [name, ""] });
                  return { kind: "varArray", name, type, max, pos };
                },
              },
              { ALT: () => ({ kind: "plain", name, type, pos }) },
            ]);
          },
        },
      ],
    });
  });

  // [ value ]
  private readonly fixedSize = this.RULE("fixedSize", (name: string): Value => {
    this.CONSUME(LSquare);
    const size = this.SUBRULE(this.value, {
      ARGS: [`expected a number or constant name as the size of '${name}'`],
    });
    this.CONSUME(RSquare, { ERR_MSG: `expected ']' after the size of '${name}'` });
    return size;
  });

  // < [value] >   (`open` is the message if the '<' is missing; "" where it cannot be)
  private readonly maxSize = this.RULE("maxSize", (name: string, open: string): Value | null => {
    this.CONSUME(LAngle, { ERR_MSG: open });
    const max =
      this.OPTION(() =>
        this.SUBRULE(this.value, { ARGS: [`expected the maximum size of '${name}'`] }),
      ) ?? null;
    this.CONSUME(RAngle, {
      ERR_MSG:
        max === null
          ? `expected a maximum size or '>' after '${name}<'`
          : `expected '>' after the maximum size of '${name}'`,
    });
    return max;
  });

  // --- Type specifiers ------------------------------------------------------------

  private readonly typeSpec = this.RULE("typeSpec", (expected: string): TypeSpec =>
    this.OR<TypeSpec>({
      ERR_MSG: expected,
      DEF: [
        { ALT: () => this.SUBRULE(this.unsignedType) },
        { ALT: () => ({ kind: "int", unsigned: false, pos: this.at(this.CONSUME(Int)) }) },
        { ALT: () => ({ kind: "hyper", unsigned: false, pos: this.at(this.CONSUME(Hyper)) }) },
        { ALT: () => ({ kind: "float", pos: this.at(this.CONSUME(Float)) }) },
        { ALT: () => ({ kind: "double", pos: this.at(this.CONSUME(Double)) }) },
        { ALT: () => ({ kind: "quadruple", pos: this.at(this.CONSUME(Quadruple)) }) },
        { ALT: () => ({ kind: "bool", pos: this.at(this.CONSUME(Bool)) }) },
        {
          ALT: () => {
            const pos = this.at(this.CONSUME(Enum));
            return {
              kind: "enum",
              body: this.SUBRULE(this.enumBody, { ARGS: ["the inline enum"] }),
              pos,
            };
          },
        },
        {
          ALT: () => {
            const pos = this.at(this.CONSUME(Struct));
            const body = this.SUBRULE(this.structBody, { ARGS: ["the inline struct"] });
            return { kind: "struct", body, pos };
          },
        },
        {
          ALT: () => {
            const pos = this.at(this.CONSUME(Union));
            const body = this.SUBRULE(this.unionBody, { ARGS: ["the inline union"] });
            return { kind: "union", body, pos };
          },
        },
        {
          ALT: () => {
            const name = this.CONSUME(Identifier);
            return { kind: "ref", name: name.image, pos: this.at(name) };
          },
        },
      ],
    }),
  );

  // unsigned int | unsigned hyper | unsigned (= unsigned int)
  private readonly unsignedType = this.RULE("unsignedType", (): TypeSpec => {
    const pos = this.at(this.CONSUME(Unsigned));
    return this.OR<TypeSpec>([
      {
        ALT: () => {
          this.CONSUME(Int);
          return { kind: "int", unsigned: true, pos };
        },
      },
      {
        ALT: () => {
          this.CONSUME(Hyper);
          return { kind: "hyper", unsigned: true, pos };
        },
      },
      {
        ALT: () => {
          // A bare `unsigned` is only ever followed by a name, '*', ',' or
          // ')'; a keyword here means something like `unsigned float`.
          this.ACTION(() => {
            if (tokenMatcher(this.LA(1), Keyword)) {
              throw this.unexpected("expected 'int', 'hyper' or a name after 'unsigned'");
            }
          });
          return { kind: "int", unsigned: true, pos };
        },
      },
    ]);
  });

  // --- Values -------------------------------------------------------------------------

  private readonly value = this.RULE("value", (expected: string): Value =>
    this.OR<Value>({
      ERR_MSG: expected,
      DEF: [
        { ALT: () => this.literal(this.CONSUME(IntegerLiteral)) },
        {
          ALT: () => {
            const name = this.CONSUME(Identifier);
            return { kind: "name", name: name.image, pos: this.at(name) };
          },
        },
      ],
    }),
  );

  private literal(token: IToken): Value {
    // tokenize() has rejected malformed literals; the fallback only serves
    // the placeholder token seen while Chevrotain records the grammar.
    return { kind: "literal", value: parseIntegerLiteral(token.image) ?? 0n, pos: this.at(token) };
  }

  // --- RPC programs (RFC 5531 §12.2) --------------------------------------------------

  // program NAME { version-def+ } = value ;
  private readonly programDef = this.RULE("programDef", (): Definition => {
    const start = this.CONSUME(Program);
    const name = this.CONSUME(Identifier, { ERR_MSG: "expected a name after 'program'" }).image;
    const what = `program '${name}'`;
    this.CONSUME(LCurly, { ERR_MSG: `expected '{' to begin the body of ${what}` });
    const versions: VersionDef[] = [];
    this.AT_LEAST_ONE({
      ERR_MSG: `expected 'version' in ${what}`,
      DEF: () => {
        versions.push(this.SUBRULE(this.versionDef));
      },
    });
    this.CONSUME(RCurly, { ERR_MSG: `expected another 'version' or '}' to close ${what}` });
    const number = this.SUBRULE(this.numberAssignment, { ARGS: [what] });
    return { kind: "program", name, versions, number, pos: this.at(start) };
  });

  // version NAME { procedure-def+ } = value ;
  private readonly versionDef = this.RULE("versionDef", (): VersionDef => {
    const start = this.CONSUME(Version);
    const name = this.CONSUME(Identifier, { ERR_MSG: "expected a name after 'version'" }).image;
    const what = `version '${name}'`;
    this.CONSUME(LCurly, { ERR_MSG: `expected '{' to begin the body of ${what}` });
    const procedures: ProcedureDef[] = [];
    this.AT_LEAST_ONE({
      ERR_MSG: `expected a procedure definition in ${what}`,
      DEF: () => {
        procedures.push(this.SUBRULE(this.procedureDef));
      },
    });
    this.CONSUME(RCurly, { ERR_MSG: `expected another procedure or '}' to close ${what}` });
    const number = this.SUBRULE(this.numberAssignment, { ARGS: [what] });
    return { name, procedures, number, pos: this.at(start) };
  });

  // proc-return NAME ( args ) = value ;
  private readonly procedureDef = this.RULE("procedureDef", (): ProcedureDef => {
    const start = this.LA(1);
    const result = this.OR<TypeSpec | null>([
      {
        ALT: () => {
          this.CONSUME(Void);
          return null;
        },
      },
      { ALT: () => this.SUBRULE(this.typeSpec, { ARGS: [""] }) },
    ]);
    const name = this.CONSUME(Identifier, {
      ERR_MSG: "expected a procedure name after the result type",
    }).image;
    this.CONSUME(LParen, { ERR_MSG: `expected '(' after procedure name '${name}'` });
    const args = this.SUBRULE(this.procedureArgs, { ARGS: [name] });
    this.CONSUME(RParen, {
      ERR_MSG:
        args.length === 0
          ? `expected ')' after 'void' in procedure '${name}'`
          : `expected ',' or ')' in the arguments of procedure '${name}'`,
    });
    const number = this.SUBRULE(this.numberAssignment, { ARGS: [`procedure '${name}'`] });
    return { name, result, args, number, pos: this.at(start) };
  });

  // void | type-specifier ("," type-specifier)*
  private readonly procedureArgs = this.RULE("procedureArgs", (name: string): TypeSpec[] =>
    this.OR<TypeSpec[]>({
      ERR_MSG: `expected an argument type or 'void' for procedure '${name}'`,
      DEF: [
        {
          ALT: () => {
            this.CONSUME(Void);
            return [];
          },
        },
        {
          ALT: () => {
            const args = [this.SUBRULE1(this.typeSpec, { ARGS: [""] })];
            this.MANY(() => {
              this.CONSUME(Comma);
              args.push(
                this.SUBRULE2(this.typeSpec, { ARGS: ["expected an argument type after ','"] }),
              );
            });
            return args;
          },
        },
      ],
    }),
  );

  // = value ;   (the tail shared by programs, versions and procedures)
  private readonly numberAssignment = this.RULE("numberAssignment", (what: string): Value => {
    this.CONSUME(Equals, { ERR_MSG: `expected '=' and a number after ${what}` });
    const number = this.SUBRULE(this.value, {
      ARGS: [`expected a number or constant name as the number of ${what}`],
    });
    this.CONSUME(Semi, { ERR_MSG: `expected ';' after the number of ${what}` });
    return number;
  });
}

/** Turns Chevrotain's first recognition error into our diagnostic. */
function toSpecError(error: IRecognitionException, tokens: IToken[], file: string): XdrSpecError {
  const found = describeToken(error.token);
  return new XdrSpecError(errorPos(error.token, tokens, file), `${error.message}, found ${found}`);
}

/** A token's position; for end of file, just past the last real token. */
function errorPos(token: IToken, tokens: IToken[], file: string): Pos {
  if (token.tokenType !== EOF) return tokenPos(token, file);
  const last = tokens[tokens.length - 1];
  if (last === undefined) return { file, line: 1, col: 1 };
  return { file, line: last.endLine ?? 1, col: (last.endColumn ?? 0) + 1 };
}

/** One instance for all parses: Chevrotain's grammar analysis is costly and runs once. */
const parser = new XdrParser();

/**
 * Parses one XDR/RPC specification. Throws XdrSpecError (message
 * `file:line:col: text`) for the first lexical or syntax error.
 */
export function parseSpec(text: string, file: string): Specification {
  const { tokens, errors } = tokenize(text, file);
  if (errors[0] !== undefined) throw errors[0];
  return { file, definitions: parser.parse(tokens, file) };
}

/**
 * Like parseSpec but returns the errors instead of throwing: every lexical
 * error if there are any, else the first syntax error (the parser does not
 * attempt recovery, so later syntax errors are not reported), else none.
 */
export function parseSpecErrors(text: string, file: string): XdrSpecError[] {
  const { tokens, errors } = tokenize(text, file);
  if (errors.length > 0) return errors;
  try {
    parser.parse(tokens, file);
    return [];
  } catch (e) {
    if (e instanceof XdrSpecError) return [e];
    throw e;
  }
}
