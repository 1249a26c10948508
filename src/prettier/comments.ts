/**
 * Comments: where each one is attached and how it is printed.
 *
 * Prettier finds, for every comment, the smallest enclosing node and the child nodes just before
 * and after it; `attachComment` then decides, aiming for a second format to find every comment
 * where the first one printed it:
 * - a comment inside brackets stays inside them (neighbours outside are ignored); one in empty
 *   brackets (`f(/* x *\/)`, `network n { // todo }`) dangles on their owner, and one ending the
 *   line right before an opening bracket (`network n // why`, then `{`) moves inside it;
 * - a comment ending its line (`//`, or a block comment before a newline or spanning lines)
 *   trails the element its line ends with (statement, setting, argument, list item, chain stage,
 *   `then`/`else` branch, chain head, condition) and is printed at the end of that element;
 * - one on a line of its own leads the next element starting a line (printed before its `->`,
 *   `then` or `else`), or trails the last element before the closing bracket;
 * - one right after `x =` or `kernel =` is about the value: it moves above the statement or
 *   argument;
 * - a comment inside a line (`a /* x *\/ + b`) sticks to the nearer neighbour, as written.
 */
import { doc, util, type Doc, type ParserOptions } from "prettier";
import { parentOf } from "./parse.js";
import { commentsOf, locEnd, locStart, type PrettierComment, type VnetNode } from "./nodes.js";

const { breakParent, hardline, join, lineSuffix, literalline } = doc.builders;

/** Parent properties whose elements each start a line once their list breaks. */
const LINE_START_KEYS = new Set([
  "File.items",
  "Block.body",
  "Network.body",
  "Section.entries",
  "Inflate.entries",
  "Rule.bindings",
  "Chain.stages",
  "CallStage.body",
  "ForStage.body",
  "Call.args",
  "CallStage.args",
  "Block.params",
  "List.items",
  "Import.names",
  "Output.values",
  "If.whenTrue",
  "If.whenFalse",
]);

/** Properties naming what a statement or argument defines: a comment after them is about the value. */
const NAME_KEYS = new Set(["Binding.names", "Stream.name", "Input.name", "Argument.name", "Param.name"]);

function role(node: VnetNode): string | undefined {
  const link = parentOf(node);
  return link ? `${link.parent.kind}.${link.key}` : undefined;
}

/** Parent properties whose elements are statements or settings: blank lines between them are kept. */
const SEQUENCE_KEYS = new Set(["File.items", "Block.body", "Network.body", "Section.entries", "Inflate.entries", "Rule.bindings"]);

/** Whether blank lines around the node's own-line comments are kept (statements and settings only). */
export function keepsBlankLines(node: VnetNode): boolean {
  return SEQUENCE_KEYS.has(role(node) ?? "");
}

function startsLine(node: VnetNode): boolean {
  const r = role(node);
  return r !== undefined && LINE_START_KEYS.has(r);
}

/** The nearest node, `node` itself or an ancestor, that starts a line. */
function lineStartAncestor(node: VnetNode): VnetNode {
  let current: VnetNode = node;
  while (!startsLine(current)) {
    const link = parentOf(current);
    if (!link || link.parent.kind === "File") return current;
    current = link.parent;
  }
  return current;
}

/**
 * The element a comment at the end of `node`'s line trails: the element starting a line that
 * holds `node` (or a chain's head), widened to the outermost one ending at the same place. The
 * comment is printed after that whole element, at the end of its last line, which is also where
 * the next format finds it.
 */
function lineEndingElement(node: VnetNode): VnetNode {
  // A chain's head and a conditional's condition are followed by a line break once their line
  // ends in a comment (see print.ts).
  let element = role(node) === "Chain.head" || role(node) === "If.condition" ? node : lineStartAncestor(node);
  for (;;) {
    const link = parentOf(element);
    if (!link || link.parent.kind === "File") return element;
    const outer = lineStartAncestor(link.parent);
    if (locEnd(outer) !== locEnd(element)) return element;
    element = outer;
  }
}

/**
 * Whether printing the comment must end the line: `//`, a block comment written before a newline,
 * or one spanning lines (its line breaks break the code around it anyway).
 */
export function endsLine(comment: PrettierComment, text: string): boolean {
  return !comment.block || comment.text.includes("\n") || util.hasNewline(text, locEnd(comment));
}

/**
 * Attaches one comment (prettier's `handleComments` hook, for every placement). Always handles
 * the comment, so prettier's own heuristics never run.
 */
export function attachComment(comment: PrettierComment, text: string, _options: unknown, ast: VnetNode): boolean {
  const { enclosingNode, precedingNode, followingNode } = comment;
  let container = comment.container;
  // A comment ending the line before an opening bracket (`network n // why`, then `{`) would be
  // printed after the bracket, at the end of the line: it belongs inside the brackets. Only for
  // brackets of the enclosing node itself: `f(a, // why`, then `[1, 2])` keeps the comment after
  // `a,`, as the list is an argument of its own.
  const opener = comment.openerAfter;
  const movesIntoBrackets = opener !== undefined && endsLine(comment, text) && (!followingNode || locStart(followingNode) > opener.open);
  if (movesIntoBrackets) container = opener;
  const inside = (node: VnetNode | undefined) =>
    node !== undefined && (!container || (locStart(node) > container.open && locEnd(node) <= container.close)) ? node : undefined;
  const before = movesIntoBrackets ? undefined : inside(precedingNode);
  const after = inside(followingNode);

  if (!before && !after) {
    util.addDanglingComment(enclosingNode ?? ast, comment, container?.opener ?? "");
  } else if (endsLine(comment, text)) {
    const codeBefore = !util.hasNewline(text, locStart(comment), { backwards: true });
    if (before && codeBefore && !NAME_KEYS.has(role(before) ?? "")) util.addTrailingComment(lineEndingElement(before), comment);
    else if (after) util.addLeadingComment(lineStartAncestor(after), comment);
    else if (startsLine(before!)) util.addTrailingComment(before!, comment);
    // Printed on its own line after the element the code before it belongs to.
    else util.addTrailingComment(lineStartAncestor(before!), comment);
  } else if (before && after) {
    const gap = text.slice(locEnd(comment), locStart(after));
    if (/^\s*$/.test(gap)) util.addLeadingComment(after, comment);
    else util.addTrailingComment(before, comment);
  } else if (after) util.addLeadingComment(after, comment);
  else util.addTrailingComment(before!, comment);
  return true;
}

/** The comment's own text: line comments lose trailing blanks, block comments keep every line as written. */
export function printCommentText(comment: PrettierComment): Doc {
  comment.printed = true;
  if (!comment.block) return comment.text.trimEnd();
  return join(literalline, comment.text.split("\n"));
}

/** Whether the original text has an empty line right after `offset` (after the rest of its line). */
function blankLineAfter(text: string, offset: number): boolean {
  const index = util.skipNewline(text, util.skipSpaces(text, offset));
  return index !== false && util.hasNewline(text, index);
}

/** A leading comment and what separates it from its node: a newline (two if the user left a blank line) or a space. */
export function printLeadingComment(comment: PrettierComment, text: string, keepBlankLine: boolean): Doc {
  const parts: Doc[] = [printCommentText(comment)];
  if (endsLine(comment, text)) {
    parts.push(hardline);
    if (keepBlankLine && blankLineAfter(text, locEnd(comment))) parts.push(hardline);
  } else parts.push(" ");
  return parts;
}

/** A trailing comment; `previous` is the one printed just before it on the same node. */
export function printTrailingComment(
  comment: PrettierComment,
  text: string,
  previous: { readonly lineSuffix: boolean; readonly endsLine: boolean } | undefined,
  keepBlankLine: boolean,
): { doc: Doc; lineSuffix: boolean; endsLine: boolean } {
  const printed = printCommentText(comment);
  const breaks = endsLine(comment, text);
  if ((previous?.lineSuffix && previous.endsLine) || util.hasNewline(text, locStart(comment), { backwards: true })) {
    const blankBefore = keepBlankLine && util.isPreviousLineEmpty(text, locStart(comment));
    return { doc: [lineSuffix([hardline, blankBefore ? hardline : "", printed]), breakParent], lineSuffix: true, endsLine: breaks };
  }
  // A `//` comment waits for the end of the line; a block comment is printed in place (and counts
  // towards the line's width either way it was written, so both formats break the same code).
  if (!comment.block || previous?.lineSuffix) return { doc: [lineSuffix([" ", printed]), breakParent], lineSuffix: true, endsLine: breaks };
  return { doc: [" ", printed, breaks ? breakParent : ""], lineSuffix: false, endsLine: breaks };
}

/** The node's trailing comments (those `which` accepts), in order. */
export function printTrailingComments(node: VnetNode, text: string, which: (comment: PrettierComment) => boolean = () => true): Doc {
  const trailing: Doc[] = [];
  let previous: ReturnType<typeof printTrailingComment> | undefined;
  for (const comment of commentsOf(node).filter((c) => c.trailing && which(c))) {
    previous = printTrailingComment(comment, text, previous, keepsBlankLines(node));
    trailing.push(previous.doc);
  }
  return trailing;
}

/** Prints `printed` with the node's leading and trailing comments around it. */
export function withComments(node: VnetNode, printed: Doc, options: ParserOptions): Doc {
  const comments = commentsOf(node);
  if (comments.length === 0) return printed;
  const text = options.originalText;
  const leading = comments.filter((c) => c.leading).map((c) => printLeadingComment(c, text, keepsBlankLines(node)));
  return [...leading, printed, printTrailingComments(node, text)];
}

/** The comments dangling on `node` inside the brackets opened by `opener` (any brackets if omitted). */
export function danglingComments(node: VnetNode, opener?: string): PrettierComment[] {
  return commentsOf(node).filter((c) => !c.leading && !c.trailing && (opener === undefined || c.marker === opener));
}

/**
 * Comments alone inside empty brackets: each on its own line when one of them ends its line
 * (`breaks`: the caller indents and breaks around them), else space-separated on one line.
 */
export function printDanglingList(comments: readonly PrettierComment[], text: string): { doc: Doc; breaks: boolean } {
  const breaks = comments.some((c) => endsLine(c, text));
  const parts: Doc[] = [];
  comments.forEach((comment, i) => {
    if (i > 0) {
      parts.push(breaks ? hardline : " ");
      if (breaks && util.isPreviousLineEmpty(text, locStart(comment))) parts.push(hardline);
    }
    parts.push(printCommentText(comment));
  });
  return { doc: parts, breaks };
}
