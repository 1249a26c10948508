/**
 * Completion. The text being typed rarely parses, so the context comes from the tokens before
 * the cursor: which brackets are open and what opened them (a network body, a section, a stage's
 * argument list, ...) and the token right before the word. Names in scope come from the name
 * index of whatever the parser recovered.
 */
import type { IToken, TokenType } from "chevrotain";
import { CompletionItemKind, InsertTextFormat, type CompletionItem } from "vscode-languageserver";
import * as T from "../../grammar/tokens.js";
import { LineIndex } from "../diagnostics/location.js";
import { FUNCTIONS, OPERATORS, type OpDef, type ParamSpec } from "../ops/catalogue.js";
import { packageImportPaths } from "../semantics/program.js";
import { NETWORK_PROPERTIES, SECTION_SCHEMAS, type Field, type Schema } from "../semantics/sections.js";
import type * as A from "../syntax/ast.js";
import {
  blockSignature,
  fieldMarkdown,
  formatArgValue,
  INPUT_FUNCTION_PARAMS,
  opMarkdown,
  opSignature,
  paramMarkdown,
  sourceText,
  TENSOR_MEMBERS,
  typeText,
} from "./docs.js";
import { schemaAt } from "./hover.js";
import { lineIndexOf, toLspRange } from "./positions.js";
import { isDefinition, localsAt, resolveTopLevel, type Definition, type ModuleIndex } from "./module-index.js";
import type { Workspace } from "./workspace.js";

type Frame =
  | { kind: "network" | "block" | "stage-body" | "import" | "list" | "paren" | "block-params" | "curly" }
  | { kind: "section"; path: string[] }
  | { kind: "inflate" }
  | { kind: "rule" }
  | { kind: "stage-call"; callee: string; openIndex: number }
  | { kind: "call"; callee: string; openIndex: number };

/** Tokens that leave an expression unfinished: a value must follow them. */
const EXPECTS_VALUE = new Set<TokenType>([
  T.Equals,
  T.LParen,
  T.LBracket,
  T.Comma,
  T.Plus,
  T.Minus,
  T.Star,
  T.StarStar,
  T.Slash,
  T.Percent,
  T.EqEq,
  T.NotEq,
  T.Less,
  T.LessEq,
  T.Greater,
  T.GreaterEq,
  T.If,
  T.Then,
  T.Else,
  T.And,
  T.Or,
  T.Not,
  T.Output,
  T.In,
  T.DotDot,
]);

/** Tokens that end a value, after which only an operator keyword can follow on the same line. */
const ENDS_VALUE = new Set<TokenType>([T.Identifier, T.NumberLiteral, T.StringLiteral, T.RParen, T.RBracket, T.True, T.False]);

/** Completion items at `offset` of `file`. Never throws on partial text. */
export function completionsAt(workspace: Workspace, file: string, offset: number): CompletionItem[] {
  const text = workspace.textOf(file) ?? "";
  const index = workspace.indexOf(file);
  if (!index) return [];
  // The context starts at the last `import`, `block` or `network` before the cursor (the frames
  // below reset there anyway): lexing from it, not from the file's start, keeps a keystroke's
  // work small in a file of megabytes.
  const itemStart = index.ast.items.reduce((at, item) => (item.kind !== "Binding" && item.range.start <= offset ? item.range.start : at), 0);
  const prefix = text.slice(itemStart, offset);
  const cursor = offset - itemStart;
  const lexed = T.tokenize(prefix);
  // The lexer tracks offsets only; statement starts below are told apart by their lines.
  const lines = new LineIndex(prefix);
  for (const token of lexed.tokens) token.startLine = lines.positionAt(token.startOffset).line;
  const comments = lexed.groups.comments ?? [];
  const lastComment = comments[comments.length - 1];
  if (lastComment && lastComment.endOffset! + 1 >= cursor && lastComment.tokenType === T.LineComment && !prefix.slice(lastComment.startOffset).includes("\n"))
    return [];
  let tokens = lexed.tokens;
  const last = tokens[tokens.length - 1];
  if (last?.tokenType === T.UnterminatedComment) return [];
  if (last?.tokenType === T.UnterminatedString) {
    const before = tokens.slice(0, -1);
    if (before[before.length - 1]?.tokenType === T.From) return importPathItems(text, itemStart + last.startOffset + 1, offset);
    return stringCompletions(before);
  }
  if (last?.tokenType === T.StringLiteral && last.endOffset! + 1 === cursor) return [];
  // The word being typed is not context: drop it (keywords too, since `in` may be the start of `input`).
  if (last && last.endOffset! + 1 === cursor && /^[A-Za-z_]/.test(last.image)) tokens = tokens.slice(0, -1);

  const frames = openFrames(tokens);
  const frame = frames[frames.length - 1];
  const prev = tokens[tokens.length - 1];
  const prev2 = tokens[tokens.length - 2];
  const scope = scopeAt(workspace, index, offset);
  const atLineStart = /(^|\n)[ \t]*[A-Za-z_]*$/.test(prefix);

  if (prev?.tokenType === T.Dot)
    return Object.entries(TENSOR_MEMBERS).map(([name, doc]) => ({ label: name, kind: CompletionItemKind.Field, documentation: doc }));
  if (
    prev?.tokenType === T.As ||
    prev?.tokenType === T.For ||
    prev?.tokenType === T.Block ||
    prev?.tokenType === T.Network ||
    prev?.tokenType === T.Stream ||
    prev?.tokenType === T.Input
  ) {
    return [];
  }
  if (prev?.tokenType === T.Arrow || (frame?.kind === "stage-body" && prev?.tokenType === T.LCurly)) {
    return stageItems(workspace, scope, inStream(tokens));
  }

  switch (frame?.kind) {
    case "import":
      return importNameItems(workspace, file, text, offset);
    case "block-params":
      return [];
    case "stage-call":
    case "call":
      if (prev?.tokenType === T.LParen || prev?.tokenType === T.Comma) return [...argumentItems(workspace, index, frame, tokens), ...valueItems(scope, tokens)];
      if (prev?.tokenType === T.Equals && prev2?.tokenType === T.Identifier) {
        return [...argumentValueItems(frame.callee, prev2.image, frame.kind === "call"), ...valueItems(scope, tokens)];
      }
      break;
    case "section":
    case "inflate":
    case "rule": {
      const schema = frame.kind === "section" ? schemaAt(frame.path) : schemaAt(frame.kind === "inflate" ? ["inflate"] : ["inflate", "rule"]);
      if (prev?.tokenType === T.Equals && prev2?.tokenType === T.Identifier) {
        const field = schema?.[prev2.image];
        return [...(field ? fieldValueItems(field) : []), ...valueItems(scope, tokens)];
      }
      if (prev?.tokenType === T.LCurly || prev?.tokenType === T.Comma || prev?.tokenType === T.RCurly || atLineStart) {
        return schema ? keyItems(schema, presentKeys(tokens)) : [];
      }
      break;
    }
    default:
      break;
  }

  if (prev && EXPECTS_VALUE.has(prev.tokenType)) return valueItems(scope, tokens);

  const statementStart = !prev || prev.tokenType === T.LCurly || prev.tokenType === T.RCurly || (atLineStart && ENDS_VALUE.has(prev.tokenType));
  if (statementStart) {
    if (!frame) return keywordItems(["import", "block", "network"]);
    if (frame.kind === "network") {
      return [
        ...keywordItems(["input", "stream", "output", "inflate"]),
        ...Object.entries(SECTION_SCHEMAS).map(([name, schema]) => ({
          label: name,
          kind: CompletionItemKind.Module,
          detail: "section",
          documentation: {
            kind: "markdown" as const,
            value: Object.entries(schema)
              .map(([k, f]) => `- ${fieldMarkdown(k, f)}`)
              .join("\n"),
          },
          insertText: `${name} {\n\t$0\n}`,
          insertTextFormat: InsertTextFormat.Snippet,
        })),
        ...NETWORK_PROPERTIES.map((name) => ({ label: name, kind: CompletionItemKind.Property, detail: "network property", insertText: `${name} = ` })),
      ];
    }
    if (frame.kind === "block") return keywordItems(["input", "output"]);
  }
  if (prev && ENDS_VALUE.has(prev.tokenType)) return keywordItems(operatorKeywords(tokens));
  return [];
}

/** Names in scope at the cursor: the container's locals, loop variables, top-level names and imports. */
interface Scope {
  readonly locals: Definition[];
  readonly topLevel: { name: string; definition: Definition | undefined; importedFrom?: string }[];
}

function scopeAt(workspace: Workspace, index: ModuleIndex, offset: number): Scope {
  // A half-written declaration may end early in the recovered tree: take the last one starting before the cursor.
  const containers = index.ast.items.filter((i): i is A.BlockDecl | A.NetworkDecl => (i.kind === "Block" || i.kind === "Network") && i.range.start <= offset);
  const container = containers[containers.length - 1];
  // What the checker would resolve here: locals declared above the cursor and live loop variables.
  const locals = localsAt(index, container, offset);
  const topLevel: Scope["topLevel"] = [...index.scope.topLevel.values()].map((d) => ({ name: d.name, definition: d }));
  for (const [name, info] of index.scope.imports) {
    const target = resolveTopLevel(index, name, workspace.indexOf);
    topLevel.push({ name, definition: isDefinition(target) ? target : undefined, importedFrom: info.decl.path.value });
  }
  return { locals, topLevel };
}

function stageItems(workspace: Workspace, scope: Scope, streamMode: boolean): CompletionItem[] {
  const items: CompletionItem[] = [];
  for (const op of OPERATORS.values()) {
    // In a stream only data-pipeline operators apply; elsewhere those sort last.
    const pipeline = op.streamOnly || op.streamOk;
    if (streamMode && !pipeline) continue;
    items.push(opItem(op, streamMode || !op.streamOnly ? "1" : "3"));
  }
  if (!streamMode) {
    for (const entry of scope.topLevel) {
      if (OPERATORS.has(entry.name)) continue;
      if (entry.definition && entry.definition.kind !== "block") continue;
      const text = entry.definition ? (workspace.textOf(entry.definition.file) ?? "") : "";
      items.push({
        label: entry.name,
        kind: CompletionItemKind.Class,
        detail: entry.definition ? blockSignature(entry.definition.node as A.BlockDecl, text) : `imported from ${entry.importedFrom}`,
        ...(entry.importedFrom ? { labelDetails: { description: entry.importedFrom } } : {}),
        sortText: `0${entry.name}`,
      });
    }
    items.push({
      label: "for",
      kind: CompletionItemKind.Keyword,
      detail: "loop stage",
      insertText: "for ${1:i} in ${2:0}..${3:2} {\n\t$0\n}",
      insertTextFormat: InsertTextFormat.Snippet,
      sortText: "2for",
    });
  }
  return items;
}

function opItem(op: OpDef, rank: string): CompletionItem {
  return {
    label: op.name,
    kind: CompletionItemKind.Function,
    detail: opSignature(op),
    documentation: { kind: "markdown", value: opMarkdown(op) },
    labelDetails: { description: op.category },
    sortText: `${rank}${op.name}`,
  };
}

/** Parameter names of the callee not yet given in this argument list. */
function argumentItems(
  workspace: Workspace,
  index: ModuleIndex,
  frame: Extract<Frame, { kind: "stage-call" | "call" }>,
  tokens: readonly IToken[],
): CompletionItem[] {
  // Arguments before the cursor: named ones by name, positional ones by count (they fill parameters in order).
  const given = new Set<string>();
  let positional = 0;
  let depth = 0;
  let argStart = true;
  let named = false;
  for (let i = frame.openIndex + 1; i < tokens.length; i++) {
    const t = tokens[i]!.tokenType;
    if (t === T.LParen || t === T.LBracket || t === T.LCurly) depth++;
    else if (t === T.RParen || t === T.RBracket || t === T.RCurly) depth--;
    else if (depth === 0 && t === T.Comma) {
      if (!named && !argStart) positional++;
      argStart = true;
      named = false;
      continue;
    } else if (depth === 0 && argStart && t === T.Identifier && tokens[i + 1]?.tokenType === T.Equals) {
      given.add(tokens[i]!.image);
      named = true;
    }
    argStart = false;
  }
  const item = (name: string, detail: string, doc: string, order: number): CompletionItem => ({
    label: name,
    kind: CompletionItemKind.Property,
    detail,
    documentation: { kind: "markdown", value: doc },
    insertText: `${name} = `,
    sortText: `0${String(order).padStart(3, "0")}`,
  });
  if (frame.kind === "call") {
    return (INPUT_FUNCTION_PARAMS[frame.callee] ?? [])
      .filter((p, i) => i >= positional && !given.has(p.name))
      .map((p, i) => item(p.name, frame.callee, p.doc, i));
  }
  const op = OPERATORS.get(frame.callee);
  if (op) return op.params.filter((p, i) => i >= positional && !given.has(p.name)).map((p, i) => item(p.name, typeText(p.type), paramMarkdown(p), i));
  const target = resolveTopLevel(index, frame.callee, workspace.indexOf);
  if (isDefinition(target) && target.kind === "block") {
    const text = workspace.textOf(target.file) ?? "";
    return (target.node as A.BlockDecl).params
      .filter((p, i) => p.name.name && i >= positional && !given.has(p.name.name))
      .map((p, i) =>
        item(p.name.name, `parameter of ${target.name}`, p.defaultValue ? `default \`${sourceText(text, p.defaultValue.range, 60)}\`` : "required", i),
      );
  }
  return [];
}

function argumentValueItems(callee: string, param: string, isFunction: boolean): CompletionItem[] {
  if (isFunction) return [];
  const spec: ParamSpec | undefined = OPERATORS.get(callee)?.params.find((p) => p.name === param);
  return spec ? typeValues(spec.type) : [];
}

function fieldValueItems(field: Field): CompletionItem[] {
  return field.type.kind === "section" ? [] : typeValues(field.type);
}

function typeValues(type: { kind: string; values?: readonly string[] }): CompletionItem[] {
  if (type.kind === "enum") return (type.values ?? []).map((v, i) => ({ label: JSON.stringify(v), kind: CompletionItemKind.EnumMember, sortText: `0${i}` }));
  if (type.kind === "padding") return ["same", "valid"].map((v) => ({ label: JSON.stringify(v), kind: CompletionItemKind.EnumMember, sortText: `0${v}` }));
  if (type.kind === "bool") return ["true", "false"].map((v) => ({ label: v, kind: CompletionItemKind.Keyword, sortText: `0${v}` }));
  return [];
}

/** Values: names in scope (locals defined before the cursor first), functions, literals. */
function valueItems(scope: Scope, tokens: readonly IToken[]): CompletionItem[] {
  const items: CompletionItem[] = [];
  const seen = new Set<string>();
  for (const d of scope.locals) {
    if (seen.has(d.name)) continue;
    seen.add(d.name);
    items.push({
      label: d.name,
      kind: d.kind === "stream" || d.kind === "input" ? CompletionItemKind.Event : CompletionItemKind.Variable,
      detail: d.kind,
      sortText: `0${d.name}`,
    });
  }
  for (const entry of scope.topLevel) {
    if (seen.has(entry.name) || entry.definition?.kind === "block" || entry.definition?.kind === "network") continue;
    seen.add(entry.name);
    items.push({
      label: entry.name,
      kind: CompletionItemKind.Constant,
      detail: entry.importedFrom ? `imported from ${entry.importedFrom}` : "constant",
      sortText: `1${entry.name}`,
    });
  }
  const inInputStatement = lastStatementKeyword(tokens) === T.Input;
  for (const [name, fn] of FUNCTIONS) {
    const isInput = name === "clip" || name === "image" || name === "sequence" || name === "boxes";
    if (isInput !== inInputStatement && isInput) continue;
    items.push({ label: name, kind: CompletionItemKind.Function, detail: `${name}(...)`, documentation: fn.doc, sortText: `${isInput ? "0" : "2"}${name}` });
  }
  items.push(...keywordItems(["if", "not", "true", "false"], "3"));
  return items;
}

function keyItems(schema: Schema, present: ReadonlySet<string>): CompletionItem[] {
  return Object.entries(schema)
    .filter(([key]) => !present.has(key))
    .map(([key, field]) => ({
      label: key,
      kind: field.type.kind === "section" ? CompletionItemKind.Module : CompletionItemKind.Property,
      detail: typeText(field.type),
      documentation: { kind: "markdown" as const, value: fieldMarkdown(key, field) },
      ...(field.type.kind === "section" ? { insertText: `${key} { $0 }`, insertTextFormat: InsertTextFormat.Snippet } : { insertText: `${key} = ` }),
      ...(field.default !== undefined ? { labelDetails: { description: `default ${formatArgValue(field.default as never)}` } } : {}),
    }));
}

function keywordItems(words: readonly string[], rank = "0"): CompletionItem[] {
  return words.map((w) => ({ label: w, kind: CompletionItemKind.Keyword, sortText: `${rank}${w}` }));
}

/** Keys already set directly inside the innermost open section. */
function presentKeys(tokens: readonly IToken[]): Set<string> {
  const present = new Set<string>();
  let depth = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i]!.tokenType;
    if (t === T.RCurly || t === T.RParen || t === T.RBracket) depth++;
    else if (t === T.LCurly || t === T.LParen || t === T.LBracket) {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && t === T.Identifier && (tokens[i + 1]?.tokenType === T.Equals || tokens[i + 1]?.tokenType === T.LCurly))
      present.add(tokens[i]!.image);
  }
  return present;
}

/** The keyword that started the statement the cursor is in (`input`, `stream`, ...), if any. */
function lastStatementKeyword(tokens: readonly IToken[]): TokenType | undefined {
  let depth = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i]!.tokenType;
    if (t === T.RCurly || t === T.RParen || t === T.RBracket) depth++;
    else if (t === T.LCurly || t === T.LParen || t === T.LBracket) {
      if (depth === 0) return undefined;
      depth--;
    } else if (depth === 0 && (t === T.Input || t === T.Stream || t === T.Output || t === T.Inflate || t === T.Import)) return t;
    else if (depth === 0 && t === T.Identifier && tokens[i + 1]?.tokenType === T.Equals && (i === 0 || tokens[i - 1]!.startLine! < tokens[i]!.startLine!))
      return undefined;
  }
  return undefined;
}

function inStream(tokens: readonly IToken[]): boolean {
  return lastStatementKeyword(tokens) === T.Stream;
}

/** Keywords that can follow a finished value here: `as` after a stage, `then`/`else` inside an `if`, `and`/`or`. */
function operatorKeywords(tokens: readonly IToken[]): string[] {
  const words = ["and", "or"];
  let ifs = 0;
  let thens = 0;
  let elses = 0;
  let arrow = false;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i]!.tokenType;
    if (t === T.LCurly || t === T.RCurly) break;
    if (t === T.If) ifs++;
    else if (t === T.Then) thens++;
    else if (t === T.Else) elses++;
    else if (t === T.Arrow) arrow = true;
    if (t === T.Equals && tokens[i - 1]?.tokenType === T.Identifier && (i < 2 || tokens[i - 2]!.startLine! < tokens[i - 1]!.startLine!)) break;
  }
  if (ifs > thens) words.push("then");
  if (thens > elses) words.push("else");
  if (arrow) words.push("as");
  const prev = tokens[tokens.length - 1];
  if (tokens[tokens.length - 2]?.tokenType === T.For && prev?.tokenType === T.Identifier) return ["in"];
  if (prev?.tokenType === T.RCurly) return [];
  return words;
}

const STATEMENT_KEYWORDS = new Set<TokenType>([T.Input, T.Stream, T.Output, T.Inflate, T.Import, T.Block, T.Network]);
const TOP_LEVEL_KEYWORDS = new Set<TokenType>([T.Import, T.Block, T.Network]);
const CURLY_FRAMES = new Set<Frame["kind"]>(["network", "block", "stage-body", "import", "curly", "section", "inflate", "rule"]);

/** The brackets open at the end of `tokens`, each with what opened it. */
function openFrames(tokens: readonly IToken[]): Frame[] {
  const stack: Frame[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const t = token.tokenType;
    const p1 = tokens[i - 1];
    const p2 = tokens[i - 2];
    // A statement keyword cannot sit inside parentheses or a list: those were left unclosed (an
    // unfinished line above), so drop them rather than let them swallow the rest of the file.
    if (STATEMENT_KEYWORDS.has(t)) while (stack.length && !CURLY_FRAMES.has(stack[stack.length - 1]!.kind)) stack.pop();
    if (TOP_LEVEL_KEYWORDS.has(t)) stack.length = 0;
    const top = stack[stack.length - 1];
    if (t === T.LCurly) {
      if (p1?.tokenType === T.Import) stack.push({ kind: "import" });
      else if (p1?.tokenType === T.Identifier && p2?.tokenType === T.Network) stack.push({ kind: "network" });
      else if (p1?.tokenType === T.Identifier && p2?.tokenType === T.Inflate) stack.push({ kind: "inflate" });
      else if (p1?.tokenType === T.StringLiteral && top?.kind === "inflate") stack.push({ kind: "rule" });
      else if (p1?.tokenType === T.RParen && blockHeaderBefore(tokens, i - 1)) stack.push({ kind: "block" });
      else if (
        p1?.tokenType === T.Identifier &&
        (top?.kind === "network" || top?.kind === "section") &&
        p2?.tokenType !== T.Arrow &&
        !(p2?.tokenType === T.LCurly && top?.kind !== "section" && top?.kind !== "network")
      ) {
        stack.push({ kind: "section", path: top.kind === "section" ? [...top.path, p1.image] : [p1.image] });
      } else
        stack.push({
          kind:
            top?.kind === "network" || top?.kind === "block" || top?.kind === "stage-body" || top?.kind === "paren" || top?.kind === "stage-call"
              ? "stage-body"
              : "curly",
        });
    } else if (t === T.LParen) {
      if (p1?.tokenType === T.Identifier && p2?.tokenType === T.Block) stack.push({ kind: "block-params" });
      else if (p1?.tokenType === T.Identifier && (p2?.tokenType === T.Arrow || (top?.kind === "stage-body" && p2?.tokenType === T.LCurly)))
        stack.push({ kind: "stage-call", callee: p1.image, openIndex: i });
      else if (p1?.tokenType === T.Identifier) stack.push({ kind: "call", callee: p1.image, openIndex: i });
      else stack.push({ kind: "paren" });
    } else if (t === T.LBracket) stack.push({ kind: "list" });
    else if (t === T.RCurly || t === T.RParen || t === T.RBracket) stack.pop();
  }
  return stack;
}

/** True when the `)` at `close` ends a `block name(...)` parameter list. */
function blockHeaderBefore(tokens: readonly IToken[], close: number): boolean {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    const t = tokens[i]!.tokenType;
    if (t === T.RParen) depth++;
    else if (t === T.LParen && --depth === 0) return tokens[i - 1]?.tokenType === T.Identifier && tokens[i - 2]?.tokenType === T.Block;
  }
  return false;
}

/** Names a file defines, inside `import { | } from "./x.vnet"`. */
function importNameItems(workspace: Workspace, file: string, text: string, offset: number): CompletionItem[] {
  const rest = text.slice(offset, offset + 500);
  const match = /^[^}]*\}\s*from\s*"([^"\r\n]*)"/.exec(rest);
  if (!match) return [];
  const target = workspace.importTarget(file, match[1]!);
  const index = target ? workspace.indexOf(target) : undefined;
  if (!index) return [];
  return [...index.scope.topLevel.values()]
    .filter((d) => d.kind !== "network")
    .map((d) => ({
      label: d.name,
      kind: d.kind === "block" ? CompletionItemKind.Class : CompletionItemKind.Constant,
      detail: d.kind === "block" ? blockSignature(d.node as A.BlockDecl, workspace.textOf(d.file) ?? "") : "constant",
    }));
}

/**
 * In an import's unfinished path (`from "vnet/sp`): the specs of the installed vnet package, each
 * replacing what was typed since the quote (a path holds `/`, which editors do not count as part
 * of a word) and closing the string.
 */
function importPathItems(text: string, contentStart: number, offset: number): CompletionItem[] {
  const typed = text.slice(contentStart, offset);
  const range = toLspRange(lineIndexOf(text), { start: contentStart, end: offset });
  return packageImportPaths()
    .filter((p) => p.startsWith(typed))
    .map((p, i) => ({
      label: p,
      kind: CompletionItemKind.File,
      detail: "vnet package",
      filterText: p,
      sortText: String(i).padStart(4, "0"),
      textEdit: { range, newText: `${p}"` },
    }));
}

/** Inside an unfinished string: enumeration values after `name = "`. */
function stringCompletions(tokens: readonly IToken[]): CompletionItem[] {
  const prev = tokens[tokens.length - 1];
  const prev2 = tokens[tokens.length - 2];
  if (prev?.tokenType !== T.Equals || prev2?.tokenType !== T.Identifier) return [];
  const frames = openFrames(tokens);
  const frame = frames[frames.length - 1];
  let values: readonly string[] = [];
  if (frame?.kind === "stage-call") {
    const spec = OPERATORS.get(frame.callee)?.params.find((p) => p.name === prev2.image);
    if (spec?.type.kind === "enum") values = spec.type.values;
    if (spec?.type.kind === "padding") values = ["same", "valid"];
  } else if (frame?.kind === "section" || frame?.kind === "inflate" || frame?.kind === "rule") {
    const schema = frame.kind === "section" ? schemaAt(frame.path) : schemaAt(frame.kind === "inflate" ? ["inflate"] : ["inflate", "rule"]);
    const type = schema?.[prev2.image]?.type;
    if (type?.kind === "enum") values = type.values;
  }
  // The opening quote is already typed, so the items insert the rest of the string.
  return values.map((v, i) => ({ label: v, kind: CompletionItemKind.EnumMember, insertText: `${v}"`, filterText: v, sortText: `0${i}` }));
}
