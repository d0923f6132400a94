// The lexer for the XDR language (RFC 4506 §6) extended with the RPC language
// (RFC 5531 §12): keywords, identifiers, integer constants, punctuation,
// comments and rpcgen-style `%` pass-through lines.

import { createToken, Lexer, tokenMatcher } from "chevrotain";
import type { ILexerErrorMessageProvider, IToken, TokenType } from "chevrotain";
import { XdrSpecError } from "./ast.js";
import type { Pos } from "./ast.js";

// --- Skipped input ----------------------------------------------------------

const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n\f\v]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

const LineComment = createToken({
  name: "LineComment",
  pattern: /\/\/[^\n\r]*/,
  group: Lexer.SKIPPED,
});

// --- Pass-through lines -----------------------------------------------------

/** True when only spaces and tabs separate `offset` from the start of its line. */
function atLineStart(text: string, offset: number): boolean {
  let i = offset - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  return i < 0 || text[i] === "\n" || text[i] === "\r";
}

/**
 * rpcgen copies `%` lines verbatim into its C output. Chevrotain rejects `^`
 * anchors in token patterns, so "at the start of a line" needs a custom
 * matcher; the whitespace before the `%` has already been skipped.
 */
function matchPassthrough(text: string, offset: number): [string] | null {
  if (text[offset] !== "%" || !atLineStart(text, offset)) return null;
  let end = offset + 1;
  while (end < text.length && text[end] !== "\n" && text[end] !== "\r") end++;
  return [text.slice(offset, end)];
}

export const Passthrough = createToken({
  name: "Passthrough",
  pattern: { exec: matchPassthrough },
  start_chars_hint: ["%"],
  line_breaks: false,
  label: "a '%' pass-through line",
});

// --- Identifiers, keywords and constants --------------------------------------

export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z][A-Za-z0-9_]*/,
  label: "a name",
});

/** The category every keyword belongs to, so error messages can say "keyword 'x'". */
export const Keyword = createToken({ name: "Keyword", pattern: Lexer.NA });

function keyword(word: string): TokenType {
  return createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: [Keyword],
    label: `'${word}'`,
  });
}

export const Bool = keyword("bool");
export const Case = keyword("case");
export const Const = keyword("const");
export const Default = keyword("default");
export const Double = keyword("double");
export const Quadruple = keyword("quadruple");
export const Enum = keyword("enum");
export const Float = keyword("float");
export const Hyper = keyword("hyper");
export const Int = keyword("int");
export const Opaque = keyword("opaque");
/** Not `String`, which would shadow the global. */
export const StringKw = keyword("string");
export const Struct = keyword("struct");
export const Switch = keyword("switch");
export const Typedef = keyword("typedef");
export const Union = keyword("union");
export const Unsigned = keyword("unsigned");
export const Void = keyword("void");
export const Program = keyword("program");
export const Version = keyword("version");

/**
 * Deliberately greedier than any valid constant (it swallows trailing letters
 * and digits) so that `0xZZ` or `089` become one token that `tokenize` rejects
 * as a whole, instead of splitting into `0` and a name and failing obscurely
 * in the parser.
 */
export const IntegerLiteral = createToken({
  name: "IntegerLiteral",
  pattern: /-?[0-9][0-9A-Za-z_]*/,
  label: "an integer constant",
});

// --- Punctuation --------------------------------------------------------------

function punct(name: string, char: string): TokenType {
  return createToken({ name, pattern: char, label: `'${char}'` });
}

export const LCurly = punct("LCurly", "{");
export const RCurly = punct("RCurly", "}");
export const LParen = punct("LParen", "(");
export const RParen = punct("RParen", ")");
export const LSquare = punct("LSquare", "[");
export const RSquare = punct("RSquare", "]");
export const LAngle = punct("LAngle", "<");
export const RAngle = punct("RAngle", ">");
export const Semi = punct("Semi", ";");
export const Comma = punct("Comma", ",");
export const Colon = punct("Colon", ":");
export const Equals = punct("Equals", "=");
export const Star = punct("Star", "*");

/** Keywords must precede Identifier: Chevrotain takes the first pattern that matches. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  BlockComment,
  LineComment,
  Passthrough,
  Keyword,
  Bool,
  Case,
  Const,
  Default,
  Double,
  Quadruple,
  Enum,
  Float,
  Hyper,
  Int,
  Opaque,
  StringKw,
  Struct,
  Switch,
  Typedef,
  Union,
  Unsigned,
  Void,
  Program,
  Version,
  Identifier,
  IntegerLiteral,
  LCurly,
  RCurly,
  LParen,
  RParen,
  LSquare,
  RSquare,
  LAngle,
  RAngle,
  Semi,
  Comma,
  Colon,
  Equals,
  Star,
];

// --- Integer constants ----------------------------------------------------------

const DECIMAL = /^-?(?:0|[1-9][0-9]*)$/;
const HEX = /^(-?)0x([0-9a-fA-F]+)$/;
const OCTAL = /^(-?)0([0-7]+)$/;

/**
 * The value of an XDR integer constant (decimal, `0x` hexadecimal or
 * leading-zero octal, each optionally negative), or undefined if malformed.
 */
export function parseIntegerLiteral(image: string): bigint | undefined {
  if (DECIMAL.test(image)) return BigInt(image);
  const hex = HEX.exec(image);
  if (hex) return signed(hex[1]!, BigInt(`0x${hex[2]!}`));
  const octal = OCTAL.exec(image);
  if (octal) return signed(octal[1]!, BigInt(`0o${octal[2]!}`));
  return undefined;
}

function signed(sign: string, magnitude: bigint): bigint {
  return sign === "-" ? -magnitude : magnitude;
}

// --- Error messages -------------------------------------------------------------

/** How a character appears in a message: quoted if printable, else as U+XXXX. */
function describeChar(char: string): string {
  const code = char.codePointAt(0)!;
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) {
    return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return `'${char}'`;
}

const lexerErrors: ILexerErrorMessageProvider = {
  buildUnexpectedCharactersMessage(fullText: string, startOffset: number): string {
    // Only an unclosed comment lets `/*` through the comment pattern.
    if (fullText.startsWith("/*", startOffset)) return "unterminated comment";
    const char = String.fromCodePoint(fullText.codePointAt(startOffset)!);
    if (char === "%") return "a '%' pass-through line must start at the beginning of a line";
    return `unexpected character ${describeChar(char)}`;
  },
  buildUnableToPopLexerModeMessage(): string {
    // The lexer has a single mode, so nothing ever pops one.
    return "internal error: unbalanced lexer modes";
  },
};

/** Built once at module load so Chevrotain's validations run only once. */
const xdrLexer = new Lexer(allTokens, {
  positionTracking: "full",
  errorMessageProvider: lexerErrors,
  ensureOptimizations: true,
});

// --- Tokenizing -------------------------------------------------------------------

export interface TokenizeResult {
  /** All tokens, including those of malformed integer constants. */
  readonly tokens: IToken[];
  /** Every lexical error, in source order. */
  readonly errors: XdrSpecError[];
}

/** Splits `text` into tokens; positions in errors name `file`. */
export function tokenize(text: string, file: string): TokenizeResult {
  const result = xdrLexer.tokenize(text);
  const errors = result.errors.map(
    (e) => new XdrSpecError({ file, line: e.line ?? 1, col: e.column ?? 1 }, e.message),
  );
  for (const token of result.tokens) {
    if (tokenMatcher(token, IntegerLiteral) && parseIntegerLiteral(token.image) === undefined) {
      errors.push(new XdrSpecError(tokenPos(token, file), malformedInteger(token.image)));
    }
  }
  errors.sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
  return { tokens: result.tokens, errors };
}

function malformedInteger(image: string): string {
  return `malformed integer constant '${image}' (expected a decimal, 0x-hexadecimal or 0-octal number)`;
}

/** The 1-based position where `token` starts. */
export function tokenPos(token: IToken, file: string): Pos {
  return { file, line: token.startLine ?? 1, col: token.startColumn ?? 1 };
}
