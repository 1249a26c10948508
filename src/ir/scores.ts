/**
 * What a network's output holds: class logits, or class probabilities. A network ends in
 * probabilities when its output is a softmax or a softmax score fusion (two-stream nets), possibly
 * averaged or selected afterwards (over frames, positions, a dropout); otherwise its output is
 * logits. Exporters and predictors use this to give both `logits` and `probabilities`:
 * - logits output: probabilities = softmax(logits);
 * - probabilities from a final softmax: logits = the softmax's input;
 * - other probabilities (e.g. averaged softmax scores): logits = log(probabilities), log-probabilities,
 *   which are logits of the same distribution (their softmax gives the probabilities back).
 */
import type { IrGraph, IrNode } from "./graph.js";

export type ScoreKind = "logits" | "probabilities";

export interface OutputScores {
  /** What the network's own output is. */
  readonly kind: ScoreKind;
  /** How the other kind is derived, in words (for metadata and help). */
  readonly derived: string;
  /** When the output is a final softmax: the node whose output are its logits. */
  readonly softmaxInput?: number;
}

/** Operators that keep a probability distribution one (means over frames/positions, selection, dropout). */
const KEEPS_DISTRIBUTION = new Set(["dropout", "global_avg_pool", "frame", "subsample", "fold_time", "unfold_time"]);

function isDistribution(node: IrNode, byId: ReadonlyMap<number, IrNode>): boolean {
  if (node.op === "softmax") return true;
  if (node.op === "score_fusion") return node.args.average !== "logits";
  const keeps = KEEPS_DISTRIBUTION.has(node.op) || (node.op === "temporal_pool" && node.args.mode !== "max");
  return keeps && isDistribution(byId.get(node.inputs[0]!)!, byId);
}

/** What one node of a graph outputs: probabilities (a distribution over classes) or logits. */
export function nodeScoreKind(graph: IrGraph, id: number): ScoreKind {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return isDistribution(byId.get(id)!, byId) ? "probabilities" : "logits";
}

/** The scores of a graph's (single) output. */
export function outputScores(graph: IrGraph): OutputScores {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const output = byId.get(graph.outputs[0]!)!;
  if (!isDistribution(output, byId)) return { kind: "logits", derived: "probabilities = softmax(logits)" };
  if (output.op === "softmax") return { kind: "probabilities", derived: "logits = the input of the final softmax", softmaxInput: output.inputs[0]! };
  return { kind: "probabilities", derived: "logits = log(probabilities), log-probabilities whose softmax gives the probabilities back" };
}
