/**
 * Stage tables: consecutive statements that call the same block or operator with several
 * arguments, one row per stage, as a paper's architecture table reads (SlowFast's
 * `s2, f2 = [s1, f1] -> slowfast_stage(3, 64, 256, 1, 1, 3) as res2`, one line per stage). The
 * printer aligns such a run in columns: each argument starts at the same column in every row.
 * Where the source is already aligned that way (a hand-made table, perhaps under a comment that
 * names the columns), its spacing is kept; otherwise the columns are as wide as their widest cell.
 *
 * A run is two or more statements without a blank line or a comment inside them, each one line
 * that fits the print width, whose chains call the same callee, with at least three arguments, at
 * the same stage after text of the same width. The printer aligns a run itself only where every
 * row has at least three positional arguments (a table of numbers, not two convolutions that
 * happen to follow each other); a run of named arguments is kept only as the user aligned it.
 * Everything else prints as usual.
 */
import { doc, type Doc, type ParserOptions } from "prettier";
import type * as A from "../syntax/ast.js";
import { childKeys, commentsOf, isNode, locEnd, locStart, type VnetNode } from "./nodes.js";

/** Spaces after each argument's comma (beyond the one space) in a table row's call. */
export type TablePadding = readonly number[];

/** Fewest arguments a call needs to be a table column set. */
const MIN_COLUMNS = 3;

/** A statement that could be a table row, measured flat. */
interface Row {
  readonly index: number;
  readonly call: A.CallStage;
  /** Index of the call among the chain's stages. */
  readonly stage: number;
  /** Text before the callee: names, `=`, the chain's head and earlier stages, `-> `. */
  readonly prefix: string;
  /** Each argument's text. */
  readonly args: readonly string[];
  /** How many arguments are positional (written without `name =`). */
  readonly positional: number;
  /** Text after the call's `)`: its alias and the later stages. */
  readonly suffix: string;
  /** Source column of each argument's start, when the statement is one source line. */
  readonly columns?: readonly number[];
}

/** What measuring needs from the printer: flat texts of sub-nodes of the statement at `index`. */
export interface TableContext {
  readonly options: ParserOptions;
  /** Indentation of the statements, in columns. */
  readonly indent: number;
  /** The flat text of the node at `selector` under the statement at `index`. */
  flat(index: number, selector: readonly (string | number)[]): string | undefined;
}

function hasComments(node: VnetNode): boolean {
  if (commentsOf(node).length) return true;
  for (const key of childKeys(node)) {
    const value = (node as unknown as Record<string, unknown>)[key];
    for (const child of Array.isArray(value) ? value : [value]) if (isNode(child) && hasComments(child)) return true;
  }
  return false;
}

/** The flat (one-line) text of a doc, or undefined when it holds a forced line break. */
export function flatText(printed: Doc, options: ParserOptions): string | undefined {
  const text = doc.printer.printDocToString(printed, { ...options, printWidth: Number.POSITIVE_INFINITY }).formatted;
  return text.includes("\n") ? undefined : text;
}

function sourceColumn(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

/** Measures one statement as a possible row (its own leading comments are allowed). */
function measure(statement: VnetNode, index: number, ctx: TableContext): Row | undefined {
  if (statement.kind !== "Binding" && statement.kind !== "Output") return undefined;
  const value = statement.kind === "Binding" ? statement.value : statement.values.length === 1 ? statement.values[0]! : undefined;
  if (!value || value.kind !== "Chain") return undefined;
  if (
    commentsOf(statement).some((c) => !c.leading) ||
    childKeys(statement).some((key) => [(statement as unknown as Record<string, unknown>)[key]].flat().some((c) => isNode(c) && hasComments(c)))
  )
    return undefined;
  const stage = value.stages.findIndex((s) => s.kind === "CallStage" && (s.args?.length ?? 0) >= MIN_COLUMNS && !s.body);
  if (stage < 0) return undefined;
  const call = value.stages[stage] as A.CallStage;
  const valuePath = statement.kind === "Binding" ? ["value"] : ["values", 0];
  const parts: (string | undefined)[] = [];
  if (statement.kind === "Binding") {
    parts.push(statement.names.map((n) => n.name).join(", "), " = ");
  } else parts.push("output ");
  parts.push(ctx.flat(index, [...valuePath, "head"]));
  for (let s = 0; s < stage; s++) parts.push(" -> ", ctx.flat(index, [...valuePath, "stages", s]));
  parts.push(" -> ");
  if (parts.some((p) => p === undefined)) return undefined;
  const args = call.args!.map((_, k) => ctx.flat(index, [...valuePath, "stages", stage, "args", k]));
  const suffix: (string | undefined)[] = [call.alias ? ` as ${call.alias.name}` : ""];
  for (let s = stage + 1; s < value.stages.length; s++) suffix.push(" -> ", ctx.flat(index, [...valuePath, "stages", s]));
  if (args.some((a) => a === undefined) || suffix.some((p) => p === undefined)) return undefined;
  const text = ctx.options.originalText;
  const oneLine = !text.slice(locStart(statement), locEnd(statement)).includes("\n");
  return {
    index,
    call,
    stage,
    prefix: parts.join(""),
    args: args as string[],
    positional: call.args!.filter((a) => !a.name).length,
    suffix: suffix.join(""),
    ...(oneLine ? { columns: call.args!.map((a) => sourceColumn(text, locStart(a as VnetNode))) } : {}),
  };
}

function sameTable(a: Row, b: Row): boolean {
  return a.call.callee.name === b.call.callee.name && a.stage === b.stage && a.prefix.length === b.prefix.length;
}

/** The padding of a run's rows, or undefined when they do not make a table that fits. */
function align(rows: readonly Row[], ctx: TableContext): TablePadding[] | undefined {
  const common = Math.min(...rows.map((r) => r.args.length));
  const widths = (r: Row) => r.args.slice(0, common - 1).map((a) => a.length);
  const fits = (padding: readonly TablePadding[]) =>
    rows.every((r, i) => {
      const argsText = r.args.reduce((sum, a, k) => sum + a.length + (k < r.args.length - 1 ? 2 + (padding[i]![k] ?? 0) : 0), 0);
      return ctx.indent + r.prefix.length + r.call.callee.name.length + 2 + argsText + r.suffix.length <= ctx.options.printWidth;
    });
  // Hand-aligned: every common argument starts at the same source column in every row.
  const columns = rows.every((r) => r.columns) ? rows[0]!.columns!.slice(0, common) : undefined;
  const handAligned = columns !== undefined && rows.every((r) => r.columns!.slice(0, common).every((c, k) => c === columns[k]));
  if (handAligned) {
    const padding = rows.map((r) => widths(r).map((w, k) => columns[k + 1]! - columns[k]! - w - 2));
    if (padding.every((p) => p.every((n) => n >= 0)) && fits(padding)) return padding;
  }
  // Otherwise (or where the hand-made spacing no longer fits) each column is as wide as its widest cell.
  if (rows.some((r) => r.positional < MIN_COLUMNS)) return undefined;
  const widest = Array.from({ length: common - 1 }, (_, k) => Math.max(...rows.map((r) => r.args[k]!.length)));
  const padding = rows.map((r) => widths(r).map((w, k) => widest[k]! - w));
  return fits(padding) ? padding : undefined;
}

/**
 * Finds the stage tables among a sequence of statements and returns each table row's call with
 * its padding. `skip` marks statements printed verbatim (prettier-ignore), which end a run.
 */
export function findTables(items: readonly VnetNode[], skip: (index: number) => boolean, ctx: TableContext): Map<A.CallStage, TablePadding> {
  const tables = new Map<A.CallStage, TablePadding>();
  const text = ctx.options.originalText;
  let run: Row[] = [];
  const close = () => {
    if (run.length >= 2) {
      const padding = align(run, ctx);
      if (padding) run.forEach((r, i) => tables.set(r.call, padding[i]!));
    }
    run = [];
  };
  items.forEach((item, index) => {
    const row = skip(index) ? undefined : measure(item, index, ctx);
    const previous = run[run.length - 1];
    const adjacent = previous && previous.index === index - 1 && !/\n[ \t]*\r?\n/.test(text.slice(locEnd(items[index - 1]!), locStart(item)));
    if (!row || !previous || !adjacent || !sameTable(previous, row)) close();
    if (row) run.push(row);
  });
  close();
  return tables;
}
