/**
 * Text -> AST + diagnostics. Never throws on user input: lexer errors, parser errors (with
 * recovery, so several per run), runaway nesting and stack exhaustion all become diagnostics.
 */
import { EOF, type IParserErrorMessageProvider, type IRecognitionException, type IToken, type TokenType } from "chevrotain";
import { VnetParser } from "../../grammar/parser.js";
import * as T from "../../grammar/tokens.js";
import type { Diagnostic, Range } from "../diagnostics/diagnostic.js";
import { LineIndex } from "../diagnostics/location.js";
import type { Comment, SpecFile, TopLevel } from "./ast.js";
import { buildFile } from "./build-ast.js";

export interface ParseResult {
  readonly ast: SpecFile;
  readonly diagnostics: Diagnostic[];
  readonly tokens: readonly IToken[];
}

/** Deeper bracket nesting than this is refused before parsing (chevrotain recurses per level). */
export const MAX_NESTING = 128;
const MAX_LEXER_DIAGNOSTICS = 50;

const TOKEN_DESCRIPTIONS: Record<string, string> = {
  Identifier: "a name",
  NumberLiteral: "a number",
  StringLiteral: "a string",
  Arrow: "`->`",
  DotDot: "`..`",
  Dot: "`.`",
  EqEq: "`==`",
  NotEq: "`!=`",
  LessEq: "`<=`",
  GreaterEq: "`>=`",
  Less: "`<`",
  Greater: "`>`",
  Equals: "`=`",
  StarStar: "`**`",
  Star: "`*`",
  Slash: "`/`",
  Percent: "`%`",
  Plus: "`+`",
  Minus: "`-`",
  LCurly: "`{`",
  RCurly: "`}`",
  LParen: "`(`",
  RParen: "`)`",
  LBracket: "`[`",
  RBracket: "`]`",
  Comma: "`,`",
  EOF: "the end of the file",
};

function describeTokenType(type: TokenType): string {
  return TOKEN_DESCRIPTIONS[type.name] ?? `\`${type.name.toLowerCase()}\``;
}

function describeToken(token: IToken): string {
  const real = boundaryToken(token);
  if (real) return describeToken(real);
  if (token.tokenType.name === "EOF") return "the end of the file";
  const image = token.image.length > 24 ? `${token.image.slice(0, 24)}…` : token.image;
  if (token.tokenType === T.Identifier) return `name \`${image}\``;
  if (token.tokenType === T.NumberLiteral) return `number \`${image}\``;
  if (token.tokenType === T.StringLiteral) return `string ${image}`;
  return `\`${image}\``;
}

const RULE_DESCRIPTIONS: Record<string, string> = {
  file: "an `import`, `block`, `network` or a binding `name = value`",
  statement: "a statement (`input`, `stream`, `output`, `inflate`, `name = value` or `section { ... }`)",
  expression: "an expression",
  stage: "an operator or block after `->` (e.g. `relu`, `conv3d(64, kernel = 3)`)",
  primary: "a value (number, string, name, list or `( ... )`)",
  term: "a value",
  unary: "a value",
  inflateDecl: 'a setting `name = value` or a rule `"pattern" { ... }`',
  section: "a setting `name = value` or a nested section",
};

const messageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    return `expected ${describeTokenType(expected)} but found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `unexpected ${describeToken(firstRedundant)}: expected ${RULE_DESCRIPTIONS.file}`;
  },
  buildNoViableAltMessage({ actual, ruleName }) {
    return `expected ${RULE_DESCRIPTIONS[ruleName] ?? `a ${ruleName}`} but found ${describeToken(actual[0]!)}`;
  },
  buildEarlyExitMessage({ actual, ruleName }) {
    return `expected ${RULE_DESCRIPTIONS[ruleName] ?? `a ${ruleName}`} but found ${describeToken(actual[0]!)}`;
  },
};

/** One shared instance: chevrotain parsers are reusable by assigning `input`. */
const vnetParser = new VnetParser(messageProvider);

/**
 * Chevrotain's in-repetition recovery re-enters the repetition once per resynchronisation and
 * rescans follow sets each time, so thousands of junk tokens cost quadratic time and can exhaust
 * the stack. Past this many errors the parser stops recovering inside repetitions (it still
 * recovers by single-token insertion/deletion and at rule level), which keeps junk linear.
 */
const MAX_ERRORS_WITH_REPETITION_RECOVERY = 50;

/**
 * Syntax errors the parser records before it stops: past this many, the rest of the file is not
 * parsed (a file of junk would otherwise cost time and memory per junk token for nothing).
 */
export const MAX_SYNTAX_ERRORS = 1000;

/**
 * Tokens of one top-level declaration. The largest real networks have a few thousand; a parse
 * holds one declaration's concrete syntax tree at a time, so this bounds the parser's memory.
 */
export const MAX_DECLARATION_TOKENS = 250_000;

/** The chevrotain internals the recovery tuning below reads (see `tuneRecovery`). */
interface RecoveryInternals {
  /** Errors of the chunks of this file parsed before the current one (see `parseSpec`). */
  errorsBefore: number;
  attemptInRepetitionRecovery: (...args: unknown[]) => void;
  getFollowsForInRuleRecovery: (tokenType: TokenType, indexInRule: number) => TokenType[];
  SAVE_ERROR: (error: unknown) => unknown;
  moveToTerminatedState: () => void;
  /** The error list itself; the public `errors` getter returns a fresh copy on every read. */
  _errors: unknown[];
  RULE_STACK: number[];
  RULE_OCCURRENCE_STACK: number[];
}

/**
 * Keeps error recovery linear in the number of errors. Chevrotain computes the tokens that may
 * follow a failed `CONSUME` by walking the grammar on every error, although the answer depends
 * only on where in the grammar the parser is (its rule and occurrence stacks) and which token it
 * expected: memoised per position, each further error there costs a map lookup. After
 * `MAX_SYNTAX_ERRORS` errors the parser jumps to the end of the input and records no more.
 */
function tuneRecovery(vnetParser: VnetParser): void {
  const parser = vnetParser as unknown as RecoveryInternals;
  parser.errorsBefore = 0;
  const attemptInRepetitionRecovery = parser.attemptInRepetitionRecovery;
  parser.attemptInRepetitionRecovery = function (this: RecoveryInternals, ...args: unknown[]) {
    if (this.errorsBefore + this._errors.length >= MAX_ERRORS_WITH_REPETITION_RECOVERY) return;
    attemptInRepetitionRecovery.apply(this, args);
  };
  const getFollows = parser.getFollowsForInRuleRecovery;
  const follows = new Map<string, TokenType[]>();
  parser.getFollowsForInRuleRecovery = function (this: RecoveryInternals, tokenType: TokenType, indexInRule: number) {
    const key = `${this.RULE_STACK.join(",")}|${this.RULE_OCCURRENCE_STACK.join(",")}|${tokenType.tokenTypeIdx}|${indexInRule}`;
    let found = follows.get(key);
    if (!found) {
      // Positions are few in practice; the bound only keeps a long-lived server's memory flat.
      if (follows.size >= 10_000) follows.clear();
      follows.set(key, (found = getFollows.call(this, tokenType, indexInRule)));
    }
    return found;
  };
  const saveError = parser.SAVE_ERROR;
  parser.SAVE_ERROR = function (this: RecoveryInternals, error: unknown) {
    if (this.errorsBefore + this._errors.length >= MAX_SYNTAX_ERRORS) {
      this.moveToTerminatedState();
      return error;
    }
    const saved = saveError.call(this, error);
    if (this.errorsBefore + this._errors.length >= MAX_SYNTAX_ERRORS) this.moveToTerminatedState();
    return saved;
  };
}
tuneRecovery(vnetParser);

const CHARACTER_HINTS: Record<string, string> = {
  ":": "vnet uses `=` for bindings and named arguments: `kernel = 3`",
  ";": "statements end where the next one starts; no semicolons are needed",
  "|": "use `or` for logical or",
  "&": "use `and` for logical and",
  "!": "use `not` for negation (`!=` compares)",
  "#": "comments start with `//`",
  "'": 'strings use double quotes: "text"',
  "?": "conditionals read `if cond then a else b`",
};

function hintFor(token: IToken | undefined, message: string): string | undefined {
  if (!token) return undefined;
  if (token.tokenType === T.Identifier && /expected `(?:=|\{)`/.test(message)) {
    return "a statement is `name = value`, `name { ... }` (a section), or starts with `input`, `stream`, `output` or `inflate`";
  }
  return undefined;
}

/** Tokens that end an expression: a name after one of them cannot continue it. */
const ENDS_EXPRESSION = new Set<TokenType>([T.Identifier, T.NumberLiteral, T.StringLiteral, T.True, T.False, T.RParen, T.RBracket, T.RCurly]);

/**
 * Whether token `i` (outside all brackets) starts a top-level item: `import`, `block`,
 * `network`, or the name of a binding (`name =` or `a, b =`) right after a complete expression.
 * Splitting there never changes how a valid file parses.
 */
function startsItem(tokens: readonly IToken[], i: number): boolean {
  const type = tokens[i]!.tokenType;
  if (type === T.Import || type === T.Block || type === T.Network) return true;
  if (type !== T.Identifier || !ENDS_EXPRESSION.has(tokens[i - 1]!.tokenType)) return false;
  const after = tokens[i + 1]?.tokenType;
  return after === T.Equals || after === T.Comma;
}

/** The end of a chunk's input: an end-of-file token standing where the next item starts. */
function boundary(next: IToken): IToken {
  return { ...next, tokenType: EOF, tokenTypeIdx: EOF.tokenTypeIdx!, payload: { boundary: next } };
}

/** The token a chunk's end stands for, when `token` is one. */
function boundaryToken(token: IToken): IToken | undefined {
  return (token.payload as { boundary?: IToken } | undefined)?.boundary;
}

function tokenRange(token: IToken, textLength: number): Range {
  if (!Number.isFinite(token.startOffset)) return { start: textLength, end: textLength };
  return { start: token.startOffset, end: (Number.isFinite(token.endOffset) ? token.endOffset! : token.startOffset) + 1 };
}

/** How much of a file's start decides whether it is binary data (git looks at 8,000 bytes the same way). */
const BINARY_SNIFF_CHARS = 8000;

/**
 * Where a text is binary data, not a spec: the first NUL of its start, when control characters and
 * undecodable bytes (U+FFFD) are over a tenth of that start. A few stray bytes inside a real spec
 * stay ordinary VN001 errors at their place.
 */
function binaryDataAt(text: string): number | undefined {
  const start = text.slice(0, BINARY_SNIFF_CHARS);
  const nul = start.indexOf("\u0000");
  if (nul < 0) return undefined;
  const junk = start.match(/[\u0000-\u0008\u000e-\u001f\ufffd]/g)?.length ?? 0;
  return junk * 10 > start.length ? nul : undefined;
}

/** Parses one .vnet source text. `file` only labels diagnostics. */
export function parseSpec(text: string, file = "<input>"): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const emptyAst: SpecFile = { kind: "File", items: [], comments: [], range: { start: 0, end: text.length } };
  const binary = binaryDataAt(text);
  if (binary !== undefined) {
    // One error for a binary file (an image, a model, an archive), not a screen of invalid-character runs.
    diagnostics.push({
      code: "VN001",
      severity: "error",
      message: "binary data, not a vnet spec: the file holds NUL bytes and undecodable characters",
      file,
      range: { start: binary, end: binary + 1 },
      hint: "is this the right file? vnet specs are UTF-8 text, like the .vnet files in specs/",
    });
    return { ast: emptyAst, diagnostics, tokens: [] };
  }
  const lexed = T.tokenize(text);

  let lexerReported = 0;
  let lastErrorEnd = -1;
  const lexerErrors = lexed.errors;
  for (let i = 0; i < lexerErrors.length; i++) {
    const error = lexerErrors[i]!;
    if (error.offset <= lastErrorEnd) continue;
    // Runs of invalid characters (binary junk) are reported once, not per byte. The errors come
    // in text order, so a run is the errors that follow, each starting where the last one ended.
    let end = error.offset + error.length;
    for (let j = i + 1; j < lexerErrors.length && lexerErrors[j]!.offset <= end; j++) if (lexerErrors[j]!.offset === end) end += lexerErrors[j]!.length;
    lastErrorEnd = end - 1;
    if (lexerReported++ >= MAX_LEXER_DIAGNOSTICS) continue;
    const ch = text[error.offset] ?? "";
    const shown =
      /[\u0000-\u001f\u007f-\u009f\ufffd]/.test(ch) || end - error.offset > 1
        ? `${end - error.offset} unexpected character(s)`
        : `unexpected character \`${ch}\``;
    diagnostics.push({
      code: "VN001",
      severity: "error",
      message: `${shown}: not part of any vnet token`,
      file,
      range: { start: error.offset, end },
      ...(CHARACTER_HINTS[ch] ? { hint: CHARACTER_HINTS[ch] } : end - error.offset > 1 ? { hint: "is this a binary file? vnet specs are UTF-8 text" } : {}),
    });
  }
  if (lexerReported > MAX_LEXER_DIAGNOSTICS) {
    diagnostics.push({
      code: "VN001",
      severity: "error",
      message: `${lexerReported - MAX_LEXER_DIAGNOSTICS} more invalid character run(s) not shown`,
      file,
      range: { start: lastErrorEnd, end: lastErrorEnd + 1 },
    });
  }

  const tokens: IToken[] = [];
  for (const token of lexed.tokens) {
    if (token.tokenType === T.UnterminatedString) {
      diagnostics.push({
        code: "VN003",
        severity: "error",
        message: "string is not closed before the end of the line",
        file,
        range: tokenRange(token, text.length),
        hint: 'add the closing `"`',
      });
      // Parse on as if the string were closed, so one missing quote is one diagnostic.
      tokens.push({ ...token, tokenType: T.StringLiteral, tokenTypeIdx: T.StringLiteral.tokenTypeIdx!, image: `${token.image}"` });
      continue;
    }
    if (token.tokenType === T.UnterminatedComment) {
      diagnostics.push({
        code: "VN003",
        severity: "error",
        message: "block comment is never closed",
        file,
        range: { start: token.startOffset, end: token.startOffset + 2 },
        hint: "add `*/` where the comment ends",
      });
      continue;
    }
    tokens.push(token);
  }
  const comments: Comment[] = (lexed.groups.comments ?? []).map((token) => ({
    kind: "Comment",
    text: token.image,
    block: token.tokenType === T.BlockComment,
    range: tokenRange(token, text.length),
  }));

  // Top-level items are parsed one at a time (see `itemStarts`): the concrete syntax tree, the
  // parser's largest allocation, then lives for one item rather than for the whole file.
  const starts: number[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const type = token.tokenType;
    if (type === T.LParen || type === T.LBracket || type === T.LCurly) {
      if (++depth > MAX_NESTING) {
        diagnostics.push({
          code: "VN004",
          severity: "error",
          message: `brackets nest more than ${MAX_NESTING} levels deep`,
          file,
          range: tokenRange(token, text.length),
          hint: "split the expression into named bindings",
        });
        return { ast: { ...emptyAst, comments }, diagnostics, tokens };
      }
    } else if (type === T.RParen || type === T.RBracket || type === T.RCurly) depth = Math.max(0, depth - 1);
    else if (depth === 0 && i > 0 && startsItem(tokens, i)) starts.push(i);
  }
  starts.push(tokens.length);

  // Chevrotain signals every syntax error with an exception; their stack traces are never read
  // and capturing them costs more than the rest of the recovery.
  const stackTraceLimit = Error.stackTraceLimit;
  const internals = vnetParser as unknown as RecoveryInternals;
  const errors: IRecognitionException[] = [];
  const items: TopLevel[] = [];
  try {
    Error.stackTraceLimit = 0;
    let from = 0;
    for (const to of starts) {
      if (to - from > MAX_DECLARATION_TOKENS) {
        const first = tokens[from]!;
        diagnostics.push({
          code: "VN004",
          severity: "error",
          message: `this declaration is ${to - from} tokens long; vnet reads declarations of up to ${MAX_DECLARATION_TOKENS} tokens`,
          file,
          range: tokenRange(first, text.length),
          hint: "split it into blocks, or generate the repetition with `for` loops and lists",
        });
        from = to;
        continue;
      }
      // Past the chunk, the parser sees the next item's first token as the end of its input: it
      // stops there, and its messages name that token as a whole-file parse would.
      const next = tokens[to];
      internals.errorsBefore = errors.length;
      vnetParser.input = next ? [...tokens.slice(from, to), boundary(next)] : tokens.slice(from, to);
      const cst = vnetParser.file();
      for (const error of vnetParser.errors) errors.push(error);
      for (const item of buildFile(cst, comments, text.length).items) items.push(item);
      from = to;
      if (errors.length >= MAX_SYNTAX_ERRORS) break;
    }
    Error.stackTraceLimit = stackTraceLimit;
    // Error recovery re-synchronises by skipping tokens, and each skip can raise another error
    // for the same mistake. One error per line, and no "unexpected input" after an earlier error,
    // keeps one mistake to one diagnostic while independent mistakes on other lines still show.
    const reportedLines = new Set<number>();
    const lines = errors.length > 0 ? new LineIndex(text) : undefined;
    for (const error of errors) {
      const token = boundaryToken(error.token) ?? error.token;
      const line = Number.isFinite(token.startOffset) ? lines!.positionAt(token.startOffset).line : -1;
      if (reportedLines.has(line)) continue;
      if (error.name === "NotAllInputParsedException" && reportedLines.size > 0) continue;
      reportedLines.add(line);
      const range = tokenRange(token, text.length);
      const hint = hintFor(token, error.message);
      diagnostics.push({ code: "VN002", severity: "error", message: error.message, file, range, ...(hint ? { hint } : {}) });
    }
    if (errors.length >= MAX_SYNTAX_ERRORS) {
      const last = errors[errors.length - 1]!.token;
      diagnostics.push({
        code: "VN002",
        severity: "error",
        message: `too many syntax errors: parsing stopped after ${MAX_SYNTAX_ERRORS}; the rest of the file is not read`,
        file,
        range: tokenRange(boundaryToken(last) ?? last, text.length),
        hint: "is this a vnet spec? fix the first errors and check again",
      });
    }
    const ast: SpecFile = { kind: "File", items, comments, range: { start: 0, end: text.length } };
    if (ast.items.length === 0 && diagnostics.length === 0) {
      diagnostics.push({
        code: "VN005",
        severity: "warning",
        message: "the file is empty: no imports, blocks or networks",
        file,
        range: { start: 0, end: Math.min(text.length, 1) },
        hint: "start with `network name { input video = clip(frames = 16, size = 112) ... }`",
      });
    }
    return { ast, diagnostics, tokens };
  } catch (error) {
    if (error instanceof RangeError) {
      diagnostics.push({
        code: "VN004",
        severity: "error",
        message: `the spec nests too deeply to parse, or has too many syntax errors to recover from (${errors.length + vnetParser.errors.length} so far)`,
        file,
        range: { start: 0, end: Math.min(1, text.length) },
        hint: "split long expressions into named bindings",
      });
      return { ast: { ...emptyAst, comments }, diagnostics, tokens };
    }
    throw error;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
