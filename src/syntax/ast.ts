/**
 * The .vnet abstract syntax tree. Every node carries a half-open source range. Nodes are plain
 * immutable data so they can be compared structurally (the formatter's "AST unchanged" check).
 */
import type { Range } from "../diagnostics/diagnostic.js";

export interface Ident {
  readonly kind: "Ident";
  readonly name: string;
  readonly range: Range;
}

export interface Comment {
  readonly kind: "Comment";
  readonly text: string;
  readonly block: boolean;
  readonly range: Range;
}

export interface SpecFile {
  readonly kind: "File";
  readonly items: readonly TopLevel[];
  readonly comments: readonly Comment[];
  readonly range: Range;
}

export type TopLevel = ImportDecl | BlockDecl | NetworkDecl | Binding;

export interface ImportDecl {
  readonly kind: "Import";
  readonly names: readonly Ident[];
  readonly path: StringLit;
  readonly range: Range;
}

export interface Param {
  readonly kind: "Param";
  readonly name: Ident;
  readonly defaultValue?: Expr;
  readonly range: Range;
}

export interface BlockDecl {
  readonly kind: "Block";
  readonly name: Ident;
  readonly params: readonly Param[];
  readonly body: readonly Statement[];
  readonly range: Range;
}

export interface NetworkDecl {
  readonly kind: "Network";
  readonly name: Ident;
  readonly body: readonly Statement[];
  readonly range: Range;
}

export type Statement = InputDecl | StreamDecl | OutputDecl | InflateDecl | Binding | Section;

export interface InputDecl {
  readonly kind: "Input";
  readonly name: Ident;
  readonly value?: Expr;
  readonly range: Range;
}

export interface StreamDecl {
  readonly kind: "Stream";
  readonly name: Ident;
  readonly value: Expr;
  readonly range: Range;
}

export interface OutputDecl {
  readonly kind: "Output";
  readonly values: readonly Expr[];
  readonly range: Range;
}

export interface InflateDecl {
  readonly kind: "Inflate";
  readonly source: Ident;
  readonly entries: readonly (Binding | InflationRule)[];
  readonly range: Range;
}

export interface InflationRule {
  readonly kind: "Rule";
  readonly pattern: StringLit;
  readonly bindings: readonly Binding[];
  readonly range: Range;
}

export interface Binding {
  readonly kind: "Binding";
  readonly names: readonly Ident[];
  readonly value: Expr;
  readonly range: Range;
}

export interface Section {
  readonly kind: "Section";
  readonly name: Ident;
  readonly entries: readonly (Binding | Section)[];
  readonly range: Range;
}

export type Expr =
  | NumberLit
  | StringLit
  | BoolLit
  | NameRef
  | ListExpr
  | CallExpr
  | IndexExpr
  | MemberExpr
  | UnaryExpr
  | BinaryExpr
  | IfExpr
  | ChainExpr
  | ParenExpr
  | ErrorExpr;

export interface NumberLit {
  readonly kind: "Number";
  readonly value: number;
  readonly raw: string;
  readonly range: Range;
}

export interface StringLit {
  readonly kind: "String";
  readonly value: string;
  readonly raw: string;
  readonly range: Range;
}

export interface BoolLit {
  readonly kind: "Bool";
  readonly value: boolean;
  readonly range: Range;
}

export interface NameRef {
  readonly kind: "Name";
  readonly name: string;
  readonly range: Range;
}

export interface ListExpr {
  readonly kind: "List";
  readonly items: readonly Expr[];
  readonly range: Range;
}

export interface Argument {
  readonly kind: "Argument";
  readonly name?: Ident;
  readonly value: Expr;
  readonly range: Range;
}

/** A function call in expression position: `floor(x / 2)`, `clip(frames = 16)`. */
export interface CallExpr {
  readonly kind: "Call";
  readonly callee: Expr;
  readonly args: readonly Argument[];
  readonly range: Range;
}

export interface IndexExpr {
  readonly kind: "Index";
  readonly object: Expr;
  readonly index: Expr;
  readonly range: Range;
}

export interface MemberExpr {
  readonly kind: "Member";
  readonly object: Expr;
  readonly member: Ident;
  readonly range: Range;
}

export type UnaryOperator = "-" | "not";
export type BinaryOperator = "+" | "-" | "*" | "/" | "%" | "**" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or";

export interface UnaryExpr {
  readonly kind: "Unary";
  readonly op: UnaryOperator;
  readonly operand: Expr;
  readonly range: Range;
}

export interface BinaryExpr {
  readonly kind: "Binary";
  readonly op: BinaryOperator;
  readonly left: Expr;
  readonly right: Expr;
  readonly range: Range;
}

export interface IfExpr {
  readonly kind: "If";
  readonly condition: Expr;
  readonly whenTrue: Expr;
  readonly whenFalse: Expr;
  readonly range: Range;
}

/** `head -> stage -> stage`: tensors flow left to right through operators and blocks. */
export interface ChainExpr {
  readonly kind: "Chain";
  readonly head: Expr;
  readonly stages: readonly Stage[];
  readonly range: Range;
}

export interface ParenExpr {
  readonly kind: "Paren";
  readonly inner: Expr;
  readonly range: Range;
}

/** Stands where the parser recovered from an error; the checker stays silent about it. */
export interface ErrorExpr {
  readonly kind: "Error";
  readonly range: Range;
}

export type Stage = CallStage | ForStage;

/** `conv3d(64, kernel = 3) as conv1`, `relu`, `per_frame { conv2d(96, 7) -> relu }`. */
export interface CallStage {
  readonly kind: "CallStage";
  readonly callee: Ident;
  /** Undefined when written without parentheses (`relu`). */
  readonly args?: readonly Argument[];
  readonly body?: readonly Stage[];
  readonly alias?: Ident;
  readonly range: Range;
}

/** `for i in 0..4 { bottleneck(256, stride = if i == 0 then 2 else 1) } as layer1` */
export interface ForStage {
  readonly kind: "ForStage";
  readonly variable: Ident;
  readonly from: Expr;
  readonly to: Expr;
  readonly body: readonly Stage[];
  readonly alias?: Ident;
  readonly range: Range;
}

export type AnyNode = SpecFile | TopLevel | Statement | Expr | Stage | Param | Argument | InflationRule | Ident;
