/**
 * The AST as prettier sees it: vnet nodes plus the fields prettier's comment machinery adds, and
 * the one table of child keys that traversal, comment attachment and printing share.
 */
import type { AnyNode, Argument, Comment } from "../syntax/ast.js";

/** Offsets of an opening bracket and of its closer; `opener` is `(`, `[` or `{`. */
export interface BracketPair {
  readonly open: number;
  readonly close: number;
  readonly opener: string;
}

/** A comment after `parseForPrettier`, with the fields prettier's attachment sets on it. */
export interface PrettierComment extends Comment {
  /** Prettier's error messages read `value`. */
  value: string;
  /** The innermost bracket pair the comment was written in (offsets of opener and closer). */
  container?: BracketPair;
  /** The bracket pair whose opener is the first token after the comment. */
  openerAfter?: BracketPair;
  leading?: boolean;
  trailing?: boolean;
  printed?: boolean;
  /** For dangling comments: the opener of the brackets they were written in. */
  marker?: string;
  placement?: "ownLine" | "endOfLine" | "remaining";
  enclosingNode?: VnetNode;
  precedingNode?: VnetNode;
  followingNode?: VnetNode;
}

/** Any AST node; prettier attaches the comments it owns to `comments`. */
export type VnetNode = (AnyNode | Argument) & { comments?: PrettierComment[] };

/** The comments prettier attached to `node` (leading, trailing and dangling). */
export function commentsOf(node: object): PrettierComment[] {
  return (node as { comments?: PrettierComment[] }).comments ?? [];
}

/** Child-holding properties per node kind, in source order. */
const CHILD_KEYS: Record<string, readonly string[]> = {
  File: ["items"],
  Import: ["names", "path"],
  Param: ["name", "defaultValue"],
  Block: ["name", "params", "body"],
  Network: ["name", "body"],
  Input: ["name", "value"],
  Stream: ["name", "value"],
  Output: ["values"],
  Inflate: ["source", "entries"],
  Rule: ["pattern", "bindings"],
  Binding: ["names", "value"],
  Section: ["name", "entries"],
  List: ["items"],
  Argument: ["name", "value"],
  Call: ["callee", "args"],
  Index: ["object", "index"],
  Member: ["object", "member"],
  Unary: ["operand"],
  Binary: ["left", "right"],
  If: ["condition", "whenTrue", "whenFalse"],
  Chain: ["head", "stages"],
  Paren: ["inner"],
  CallStage: ["callee", "args", "body", "alias"],
  ForStage: ["variable", "from", "to", "body", "alias"],
};

/** The properties of `node` that hold child nodes (leaves such as `Number` have none). */
export function childKeys(node: { readonly kind: string }): readonly string[] {
  return CHILD_KEYS[node.kind] ?? [];
}

/** Whether `value` is an AST node (comments are not nodes: they are attached to them). */
export function isNode(value: unknown): value is VnetNode {
  return (
    typeof value === "object" && value !== null && typeof (value as { kind?: unknown }).kind === "string" && (value as { kind: string }).kind !== "Comment"
  );
}

export function locStart(node: { readonly range: { readonly start: number } }): number {
  return node.range.start;
}

export function locEnd(node: { readonly range: { readonly end: number } }): number {
  return node.range.end;
}
