/**
 * The vnet printer: AST -> prettier doc. Style: 2-space indents; statements one per line with at
 * most one blank line kept where the user left one; chains that do not fit break before every
 * `->`; argument, parameter and list brackets break one item per line (lists of literals fill
 * lines instead); sections print inline `{ a = 1, b = 2 }` when short and without nested
 * sections, else one setting per line; numbers and strings exactly as written.
 */
import { doc, util, type AstPath, type Doc, type ParserOptions } from "prettier";
import type * as A from "../syntax/ast.js";
import { danglingComments, endsLine, printDanglingList, printLeadingComment, printTrailingComments, withComments } from "./comments.js";
import { parentOf } from "./parse.js";
import { commentsOf, locEnd, locStart, type PrettierComment, type VnetNode } from "./nodes.js";
import { findTables, flatText, type TablePadding } from "./tables.js";

const { breakParent, conditionalGroup, fill, group, hardline, ifBreak, indent, join, line, literalline, softline } = doc.builders;
const { willBreak } = doc.utils;

/** Prettier's print callback: prints the current node, or the child at a property path. */
type Print = (selector?: string | (string | number)[]) => Doc;
type Options = ParserOptions<VnetNode>;

/**
 * The part of prettier's `AstPath` the printer uses, typed loosely on purpose: prettier's own
 * generics follow property names through the node union, which the AST's variety defeats.
 */
interface Path<T = VnetNode> {
  readonly node: T;
  call<R>(callback: (path: Path) => R, ...names: (string | number)[]): R;
  each(callback: (path: Path, index: number) => void, ...names: string[]): void;
  map<R>(callback: (path: Path, index: number) => R, ...names: string[]): R[];
}

/**
 * Whether the node follows a keyword that starts its line when the code breaks (`->` of a chain
 * stage after the first, `then`/`else` of a conditional): its parent prints its comments, around
 * the keyword, instead of printVnet.
 */
function followsLineKeyword(node: VnetNode): boolean {
  const link = parentOf(node);
  if (!link) return false;
  const { parent, key } = link;
  if (parent.kind === "Chain" && key === "stages") return true;
  if ((parent.kind === "CallStage" || parent.kind === "ForStage") && key === "body") return parent.body?.[0] !== node;
  return parent.kind === "If" && (key === "whenTrue" || key === "whenFalse");
}

/** The printer's `print`: the node, wrapped in its comments unless its parent prints them. */
export function printVnet(prettierPath: AstPath<VnetNode>, options: Options, prettierPrint: (path: AstPath<VnetNode>) => Doc): Doc {
  const path = prettierPath as unknown as Path;
  const print = prettierPrint as unknown as Print;
  const node = path.node;
  const printed = hasIgnoreComment(node, IGNORE) ? printVerbatim(options, locStart(node), locEnd(node)) : printNode(path, options, print);
  return followsLineKeyword(node) ? printed : withComments(node, printed, options);
}

function printNode(path: Path, options: Options, print: Print): Doc {
  const node = path.node;
  const text = options.originalText;
  switch (node.kind) {
    case "File": {
      if (node.items.length === 0) {
        const dangling = danglingComments(node);
        return dangling.length ? [printDanglingList(dangling, text).doc, hardline] : "";
      }
      return [printSequence(path, options, print, "items"), hardline];
    }
    case "Import":
      return group([
        "import {",
        indent([
          line,
          join(
            [",", line],
            path.map(() => print(), "names"),
          ),
        ]),
        line,
        "} from ",
        print("path"),
      ]);
    case "Block":
      return ["block ", print("name"), printBracketList(path, options, print, "params", "(", ")"), " ", printBody(path, node, options, print)];
    case "Param":
      return node.defaultValue ? [print("name"), " = ", print("defaultValue")] : print("name");
    case "Network":
      return ["network ", print("name"), " ", printBody(path, node, options, print)];
    case "Input":
      return node.value ? ["input ", print("name"), " = ", print("value")] : ["input ", print("name")];
    case "Stream":
      return ["stream ", print("name"), " = ", print("value")];
    case "Output":
      // One value: its own breaks (a chain's indent) suffice; several break one per line.
      return node.values.length === 1
        ? ["output ", print(["values", 0])]
        : group([
            "output ",
            indent(
              join(
                [",", line],
                path.map(() => print(), "values"),
              ),
            ),
          ]);
    case "Binding":
      return [
        join(
          ", ",
          path.map(() => print(), "names"),
        ),
        " = ",
        print("value"),
      ];
    case "Section":
      return [print("name"), " ", printSettings(path, options, print, "entries")];
    case "Inflate":
      return ["inflate ", print("source"), " ", printSettings(path, options, print, "entries")];
    case "Rule":
      return [print("pattern"), " ", printSettings(path, options, print, "bindings")];
    case "Ident":
      return node.name;
    case "Number":
      return node.raw;
    case "String":
      return node.raw;
    case "Bool":
      return node.value ? "true" : "false";
    case "Name":
      return node.name;
    case "List":
      return printList(path as Path<A.ListExpr & VnetNode>, options, print);
    case "Argument":
      return node.name ? [print("name"), " = ", print("value")] : print("value");
    case "Call":
      return [print("callee"), printBracketList(path, options, print, "args", "(", ")")];
    case "Index":
      return [print("object"), "[", print("index"), "]"];
    case "Member":
      return [print("object"), ".", print("member")];
    case "Unary":
      return node.op === "not" ? ["not ", print("operand")] : ["-", print("operand")];
    case "Binary":
      return [print("left"), " ", node.op, " ", print("right")];
    case "If":
      return printIf(path as Path<A.IfExpr & VnetNode>, options, print);
    case "Paren":
      return ["(", print("inner"), ")"];
    case "Chain": {
      // The head prints outside the stages' group, so a head that breaks (a long list) keeps its
      // stages on its closing line when they fit (`] -> concat`). A comment ending the head's
      // line breaks the stages, so it stays after the head.
      const head = print("head");
      const arrows = printArrowStages(path, options, print, "stages", 0);
      const headEndsLine = commentsOf(node.head).some((c) => c.trailing && endsLine(c, text));
      const stages = group(indent(arrows), { shouldBreak: headEndsLine });
      if (node.head.kind !== "List" || willBreak(head)) return [head, stages];
      // A list head: all on one line; else the list on one line and every `->` on its own; else
      // the list broken, with the stages after its `]`.
      return conditionalGroup([
        [head, stages],
        [head, group(indent(arrows), { shouldBreak: true })],
        [head, stages],
      ]);
    }
    case "CallStage":
      return [
        print("callee"),
        node.args ? (TABLE_ROWS.has(node) ? printTableArgs(path, print, TABLE_ROWS.get(node)!) : printBracketList(path, options, print, "args", "(", ")")) : "",
        node.body ? [" ", printPipeline(path, options, print)] : "",
        node.alias ? [" as ", print("alias")] : "",
      ];
    case "ForStage":
      return [
        "for ",
        print("variable"),
        " in ",
        print("from"),
        "..",
        print("to"),
        " ",
        printPipeline(path, options, print),
        node.alias ? [" as ", print("alias")] : "",
      ];
    case "Error":
      // parseForPrettier refuses specs with parse errors, so recovery placeholders never get here.
      throw new Error("vnet printer: cannot print a spec with parse errors");
  }
}

/** Calls of stage-table rows (see tables.ts) and the padding of their arguments. */
const TABLE_ROWS = new WeakMap<A.CallStage, TablePadding>();

/** A table row's arguments on one line, each followed by its column's padding. */
function printTableArgs(path: Path, print: Print, padding: TablePadding): Doc {
  const args = path.map(() => print(), "args");
  return ["(", args.map((arg, k) => (k < args.length - 1 ? [arg, ",", " ".repeat(1 + (padding[k] ?? 0))] : arg)), ")"];
}

/**
 * Where `// prettier-ignore-start` leads a statement, the index of the last statement it keeps as
 * written: the one before the statement that `// prettier-ignore-end` leads, or the last.
 */
function ignoredRanges(items: readonly VnetNode[]): Map<number, number> {
  const ranges = new Map<number, number>();
  for (let index = 0; index < items.length; index++) {
    if (!hasIgnoreComment(items[index]!, IGNORE_START)) continue;
    let last = index;
    while (last + 1 < items.length && !hasIgnoreComment(items[last + 1]!, IGNORE_END)) last++;
    ranges.set(index, last);
    index = last;
  }
  return ranges;
}

/** Statements (or top-level items) one per line, keeping one blank line where the user had any. */
function printSequence(path: Path, options: Options, print: Print, key: string): Doc {
  const parts: Doc[] = [];
  const items = (path.node as unknown as Record<string, VnetNode[]>)[key]!;
  const text = options.originalText;
  // `// prettier-ignore-start` before a statement keeps it and the following ones as written, up
  // to the statement that `// prettier-ignore-end` precedes.
  const ranges = ignoredRanges(items);
  const verbatim = new Set([...ranges].flatMap(([first, last]) => Array.from({ length: last - first + 1 }, (_, i) => first + i)));
  const tables = findTables(items, (index) => verbatim.has(index) || hasIgnoreComment(items[index]!, IGNORE), {
    options,
    indent: key === "items" ? 0 : options.tabWidth,
    flat: (index, selector) => flatText(print([key, index, ...selector]), options),
  });
  for (const [call, padding] of tables) TABLE_ROWS.set(call, padding);
  let ignoredUntil = -1;
  path.each((child, index) => {
    if (ranges.has(index)) {
      ignoredUntil = ranges.get(index)!;
      const first = items[index]!;
      const last = items[ignoredUntil]!;
      const leading = commentsOf(first)
        .filter((c) => c.leading)
        .map((c) => printLeadingComment(c, text, true));
      const verbatim = printVerbatim(options, locStart(first), locEnd(last));
      parts.push(
        leading,
        verbatim,
        printTrailingComments(last, text, (c) => locStart(c) >= locEnd(last)),
      );
    } else if (index > ignoredUntil) parts.push(print());
    if (index >= ignoredUntil && index < items.length - 1) {
      parts.push(hardline);
      if (util.isNextLineEmpty(text, locEnd(child.node))) parts.push(hardline);
    }
  }, key);
  return parts;
}

const IGNORE = /^(?:\/\/\s*prettier-ignore\s*|\/\*\s*prettier-ignore\s*\*\/)$/;
const IGNORE_START = /^(?:\/\/\s*prettier-ignore-start\s*|\/\*\s*prettier-ignore-start\s*\*\/)$/;
const IGNORE_END = /^(?:\/\/\s*prettier-ignore-end\s*|\/\*\s*prettier-ignore-end\s*\*\/)$/;

function hasIgnoreComment(node: VnetNode, pattern: RegExp): boolean {
  return commentsOf(node).some((c) => c.leading && pattern.test(c.text.trim()));
}

/** The original text of `[start, end)`, line breaks and all; the comments in it count as printed. */
function printVerbatim(options: Options, start: number, end: number): Doc {
  const all = (options as unknown as Record<symbol, PrettierComment[] | undefined>)[Symbol.for("comments")] ?? [];
  for (const comment of all) if (locStart(comment) >= start && locEnd(comment) <= end) comment.printed = true;
  return join(literalline, options.originalText.slice(start, end).split("\n"));
}

/** Comments alone between brackets that hold nothing else. */
function printEmptyBrackets(node: VnetNode, options: Options, open: string, close: string, padInline: boolean): Doc {
  const dangling = danglingComments(node, open);
  if (dangling.length === 0) return open + close;
  const { doc: comments, breaks } = printDanglingList(dangling, options.originalText);
  if (breaks) return [open, indent([hardline, comments]), hardline, close];
  return padInline ? [open, " ", comments, " ", close] : [open, comments, close];
}

/** `{ statements }` of a network or block: always one statement per line. */
function printBody(path: Path, node: A.NetworkDecl | A.BlockDecl, options: Options, print: Print): Doc {
  if (node.body.length === 0) return printEmptyBrackets(path.node, options, "{", "}", true);
  return ["{", indent([hardline, printSequence(path, options, print, "body")]), hardline, "}"];
}

/** `(a, b)` breaking to one item per line: parameters, arguments, lists. */
function printBracketList(path: Path, options: Options, print: Print, key: string, open: string, close: string): Doc {
  const items = (path.node as unknown as Record<string, VnetNode[]>)[key]!;
  if (items.length === 0) return printEmptyBrackets(path.node, options, open, close, false);
  return group([
    open,
    indent([
      softline,
      join(
        [",", line],
        path.map(() => print(), key),
      ),
    ]),
    softline,
    close,
  ]);
}

function isLiteral(expr: VnetNode): boolean {
  return (expr.kind === "Number" || expr.kind === "String" || expr.kind === "Bool") && commentsOf(expr).length === 0;
}

/** `[a, b]`: lists of plain literals fill lines; others break one item per line. */
function printList(path: Path<A.ListExpr & VnetNode>, options: Options, print: Print): Doc {
  const { items } = path.node;
  if (items.length === 0) return printEmptyBrackets(path.node, options, "[", "]", false);
  if (!items.every((item) => isLiteral(item as VnetNode))) return printBracketList(path as Path, options, print, "items", "[", "]");
  const printed = path.map(() => print(), "items");
  const parts: Doc[] = [];
  printed.forEach((item, i) => {
    if (i > 0) parts.push([",", line]);
    parts.push(item);
  });
  return group(["[", indent([softline, fill(parts)]), softline, "]"]);
}

/**
 * `{ a = 1, b = 2 }` when it fits and holds no nested section, rule or blank line; otherwise one
 * entry per line without commas.
 */
function printSettings(path: Path, options: Options, print: Print, key: string): Doc {
  const node = path.node;
  const entries = (node as unknown as Record<string, VnetNode[]>)[key]!;
  if (entries.length === 0) return printEmptyBrackets(node, options, "{", "}", true);
  const text = options.originalText;
  let forceBreak = entries.some((e) => e.kind === "Section" || e.kind === "Rule");
  const parts: Doc[] = [];
  path.each((child, index) => {
    if (index > 0) {
      parts.push(ifBreak("", ","), line);
      if (util.isNextLineEmpty(text, locEnd(entries[index - 1]!))) {
        parts.push(softline);
        forceBreak = true;
      }
    }
    parts.push(print());
    void child;
  }, key);
  return group(["{", indent([line, ...parts]), line, "}", forceBreak ? breakParent : ""]);
}

/**
 * A line break, `keyword` and the current node. The node's comments are printed here: those that
 * end a line go on their own line before the keyword, so a second format reads them the same way;
 * inline ones follow the keyword.
 */
function printAfterKeyword(path: Path, options: Options, print: Print, keyword: string): Doc {
  const text = options.originalText;
  const node = path.node;
  const ownLine: Doc[] = [];
  const inline: Doc[] = [];
  for (const comment of commentsOf(node).filter((c) => c.leading)) {
    (endsLine(comment, text) ? ownLine : inline).push(printLeadingComment(comment, text, false));
  }
  return [line, ...ownLine, keyword, ...inline, print(), printTrailingComments(node, text)];
}

/** The `-> stage` parts of a chain or pipeline from stage `from` on, each after a line break. */
function printArrowStages(path: Path, options: Options, print: Print, key: string, from: number): Doc[] {
  const parts: Doc[] = [];
  path.each((stagePath, index) => {
    if (index >= from) parts.push(printAfterKeyword(stagePath, options, print, "-> "));
  }, key);
  return parts;
}

/** `{ stage -> stage }` of `for` loops and `per_frame`-style stages. */
function printPipeline(path: Path, options: Options, print: Print): Doc {
  return group(["{", indent([line, path.call(() => print(), "body", 0), ...printArrowStages(path, options, print, "body", 1)]), line, "}"]);
}

/** `if c then a else b`; when it breaks, `then` and every `else` start a line. `else if` chains stay flat. */
function printIf(path: Path<A.IfExpr & VnetNode>, options: Options, print: Print): Doc {
  const p = path as Path;
  const clauses: Doc[] = [p.call((branch) => printAfterKeyword(branch, options, print, "then "), "whenTrue")];
  const selector: string[] = ["whenFalse"];
  let last = path.node.whenFalse as VnetNode;
  // A nested `if` with comments of its own is printed whole, so its comments stay on it.
  while (last.kind === "If" && commentsOf(last).length === 0) {
    clauses.push(line, "else if ", print([...selector, "condition"]));
    clauses.push(p.call((branch) => printAfterKeyword(branch, options, print, "then "), ...selector, "whenTrue"));
    selector.push("whenFalse");
    last = last.whenFalse as VnetNode;
  }
  clauses.push(p.call((branch) => printAfterKeyword(branch, options, print, "else "), ...selector));
  return group(["if ", print("condition"), indent(clauses)]);
}
