/**
 * The prettier parser adapter: `parseSpec` plus what comment attachment needs. Unlike the rest of
 * the pipeline it throws on parse errors, so prettier never rewrites a spec it could not read.
 */
import type { IToken } from "chevrotain";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { LineIndex, type Position } from "../diagnostics/location.js";
import type { AnyNode, Comment, SpecFile } from "../syntax/ast.js";
import { parseSpec } from "../syntax/parse.js";
import { childKeys, locEnd, locStart, type PrettierComment, type VnetNode } from "./nodes.js";

/** A spec that does not parse; `loc` is what prettier uses to draw its code frame. */
export class VnetSyntaxError extends SyntaxError {
  /** The first error's code (VN001-VN004). */
  readonly code: string;
  readonly loc: { readonly start: Position; readonly end: Position };
  /** Every parse error of the file, first one first. */
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[], text: string) {
    const first = diagnostics[0]!;
    const index = new LineIndex(text);
    const start = index.positionAt(first.range.start);
    const end = index.positionAt(Math.max(first.range.start, first.range.end));
    super(`${first.code} ${first.message} (${start.line}:${start.column})`);
    this.name = "VnetSyntaxError";
    this.code = first.code;
    this.loc = { start, end };
    this.diagnostics = diagnostics;
  }
}

const OPENERS = new Set(["(", "[", "{"]);

/**
 * Where each node sits in its parent. Comment attachment reads it to find the element a comment
 * belongs to (a statement, an argument, a chain stage); nodes are fresh per parse, so a WeakMap
 * keyed by node never goes stale.
 */
const parents = new WeakMap<object, { readonly parent: VnetNode; readonly key: string }>();

/** The node's parent and the property of the parent that holds it, if the node was parsed here. */
export function parentOf(node: object): { readonly parent: VnetNode; readonly key: string } | undefined {
  return parents.get(node);
}

/**
 * Deepest node nesting the printer takes on. The checker reads any depth (its walks are
 * iterative), but prettier prints recursively: a 1,000-term `1 + 1 + ...` overflowed the stack.
 * Real specs nest a few dozen levels.
 */
export const MAX_FORMAT_DEPTH = 256;

/**
 * Records every node's parent, iteratively; returns the first node (in the text) nested deeper
 * than MAX_FORMAT_DEPTH, if any.
 */
function recordParents(root: VnetNode): VnetNode | undefined {
  const stack: { node: VnetNode; depth: number }[] = [{ node: root, depth: 0 }];
  let tooDeep: VnetNode | undefined;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    // Of the nodes one level too deep, the first in the text (the walk visits right to left).
    if (depth === MAX_FORMAT_DEPTH + 1 && (!tooDeep || locStart(node) < locStart(tooDeep))) tooDeep = node;
    for (const key of childKeys(node)) {
      const value = (node as unknown as Record<string, unknown>)[key];
      const children = Array.isArray(value) ? value : value === undefined ? [] : [value];
      for (const child of children as VnetNode[]) {
        parents.set(child, { parent: node, key });
        stack.push({ node: child, depth: depth + 1 });
      }
    }
  }
  return tooDeep;
}

/**
 * Tags every comment with the innermost bracket pair around it and with the bracket pair that
 * opens right after it, if any (offsets of opener and closer), found from the token stream. A
 * comment can then be kept inside the brackets it was written in, which node ranges alone cannot
 * tell (`f(/* none *\/)` has no node inside).
 */
function tagContainers(comments: readonly PrettierComment[], tokens: readonly IToken[]): void {
  const closerOf = new Map<number, number>();
  const stack: number[] = [];
  for (const token of tokens) {
    if (OPENERS.has(token.image)) stack.push(token.startOffset);
    else if (token.image === ")" || token.image === "]" || token.image === "}") {
      const open = stack.pop();
      if (open !== undefined) closerOf.set(open, token.startOffset);
    }
  }
  // One sweep over tokens and comments in source order; brackets nest, so a stack suffices.
  const open: IToken[] = [];
  let next = 0;
  for (const token of tokens) {
    while (next < comments.length && comments[next]!.range.start < token.startOffset) {
      const comment = comments[next++]!;
      const container = open.at(-1);
      if (container) comment.container = { open: container.startOffset, close: closerOf.get(container.startOffset)!, opener: container.image };
      if (OPENERS.has(token.image)) comment.openerAfter = { open: token.startOffset, close: closerOf.get(token.startOffset)!, opener: token.image };
    }
    if (OPENERS.has(token.image)) open.push(token);
    else if (token.image === ")" || token.image === "]" || token.image === "}") open.pop();
  }
}

/**
 * Parses a spec for prettier. Throws `VnetSyntaxError` when the text has parse errors (VN001 to
 * VN004); returns the AST with prettier-ready comments (`value` for prettier's messages,
 * `container` for attachment) on `ast.comments`.
 */
export function parseForPrettier(text: string, file = "<input>"): SpecFile {
  const result = parseSpec(text, file);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new VnetSyntaxError(errors, text);
  const comments: PrettierComment[] = result.ast.comments.map((c: Comment) => ({ ...c, value: c.text }));
  tagContainers(comments, result.tokens);
  const ast: SpecFile = { ...result.ast, comments };
  const tooDeep = recordParents(ast as AnyNode as VnetNode);
  if (tooDeep) {
    const range = { start: locStart(tooDeep), end: locEnd(tooDeep) };
    const diagnostic: Diagnostic = {
      code: "VN004",
      severity: "error",
      message: `the spec nests more than ${MAX_FORMAT_DEPTH} levels deep here, more than the formatter prints`,
      file,
      range,
      hint: "split long expressions (`a + b + ...`, `x[0][0]...`) into named bindings",
    };
    throw new VnetSyntaxError([diagnostic], text);
  }
  return ast;
}
