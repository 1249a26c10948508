/**
 * The .vnet lexicon. Pure chevrotain: no semantic actions, nothing but token definitions.
 * Keywords are few on purpose; section and option names (`sampling`, `classes`, `stride`) are
 * ordinary identifiers that the checker validates, so they never shadow user names.
 */
import { createToken, Lexer, type ILexingResult, type TokenType } from "chevrotain";

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string): TokenType {
  return createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier });
}

export const Import = keyword("import");
export const From = keyword("from");
export const Block = keyword("block");
export const Network = keyword("network");
export const Input = keyword("input");
export const Stream = keyword("stream");
export const Output = keyword("output");
export const Inflate = keyword("inflate");
export const For = keyword("for");
export const In = keyword("in");
export const If = keyword("if");
export const Then = keyword("then");
export const Else = keyword("else");
export const As = keyword("as");
export const True = keyword("true");
export const False = keyword("false");
export const And = keyword("and");
export const Or = keyword("or");
export const Not = keyword("not");

export const KEYWORDS = [Import, From, Block, Network, Input, Stream, Output, Inflate, For, In, If, Then, Else, As, True, False, And, Or, Not];

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\uFEFF]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\r\n]*/, group: "comments" });
export const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, group: "comments", line_breaks: true });
/** An opening `/*` that is never closed: lexed as one token so the checker can say so precisely. */
export const UnterminatedComment = createToken({ name: "UnterminatedComment", pattern: /\/\*[\s\S]*/, line_breaks: true });

export const NumberLiteral = createToken({ name: "NumberLiteral", pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/ });
export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\r\n]|\\.)*"/ });
/** A string whose closing quote is missing before the end of the line. */
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"(?:[^"\\\r\n]|\\.)*/ });

export const Arrow = createToken({ name: "Arrow", pattern: /->/ });
export const DotDot = createToken({ name: "DotDot", pattern: /\.\./ });
export const Dot = createToken({ name: "Dot", pattern: /\./ });
export const EqEq = createToken({ name: "EqEq", pattern: /==/ });
export const NotEq = createToken({ name: "NotEq", pattern: /!=/ });
export const LessEq = createToken({ name: "LessEq", pattern: /<=/ });
export const GreaterEq = createToken({ name: "GreaterEq", pattern: />=/ });
export const Less = createToken({ name: "Less", pattern: /</ });
export const Greater = createToken({ name: "Greater", pattern: />/ });
export const Equals = createToken({ name: "Equals", pattern: /=/ });
export const StarStar = createToken({ name: "StarStar", pattern: /\*\*/ });
export const Star = createToken({ name: "Star", pattern: /\*/ });
export const Slash = createToken({ name: "Slash", pattern: /\// });
export const Percent = createToken({ name: "Percent", pattern: /%/ });
export const Plus = createToken({ name: "Plus", pattern: /\+/ });
export const Minus = createToken({ name: "Minus", pattern: /-/ });
export const LCurly = createToken({ name: "LCurly", pattern: /\{/ });
export const RCurly = createToken({ name: "RCurly", pattern: /\}/ });
export const LParen = createToken({ name: "LParen", pattern: /\(/ });
export const RParen = createToken({ name: "RParen", pattern: /\)/ });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/ });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/ });
export const Comma = createToken({ name: "Comma", pattern: /,/ });

/** Order matters: longer and more specific patterns first. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  ...KEYWORDS,
  Identifier,
  NumberLiteral,
  StringLiteral,
  UnterminatedString,
  Arrow,
  DotDot,
  Dot,
  EqEq,
  NotEq,
  LessEq,
  GreaterEq,
  Less,
  Greater,
  Equals,
  StarStar,
  Star,
  Slash,
  Percent,
  Plus,
  Minus,
  LCurly,
  RCurly,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
];

/**
 * Tokens carry their start offset only (lines come from src/diagnostics/location.ts): a third of
 * the memory of full tracking. `tokenize` adds the end offset.
 */
export const VnetLexer = new Lexer(allTokens, { ensureOptimizations: false, positionTracking: "onlyOffset" });

/** Lexes `text`; every token (and comment) has `startOffset` and `endOffset` (inclusive). */
export function tokenize(text: string): ILexingResult {
  const result = VnetLexer.tokenize(text);
  for (const token of result.tokens) token.endOffset = token.startOffset + token.image.length - 1;
  for (const group of Object.values(result.groups)) for (const token of group) token.endOffset = token.startOffset + token.image.length - 1;
  return result;
}
