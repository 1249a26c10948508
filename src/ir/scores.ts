/**
 * What a network's output holds: class logits, or class probabilities. A network ends in
 * probabilities when its output is a softmax or a softmax score fusion (two-stream nets), possibly
 * averaged or selected afterwards (over frames, positions, a dropout); otherwise its output is
 * logits. Training's loss, evaluation, prediction and the exporters all ask here, so that no one
 * softmaxes probabilities again or takes a cross-entropy over them as if they were logits:
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

/** The scores of a graph's (single) output, or of another node holding class scores. */
export function outputScores(graph: IrGraph, node = graph.outputs[0]!): OutputScores {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const output = byId.get(node)!;
  if (!isDistribution(output, byId)) return { kind: "logits", derived: "probabilities = softmax(logits)" };
  if (output.op === "softmax") return { kind: "probabilities", derived: "logits = the input of the final softmax", softmaxInput: output.inputs[0]! };
  return { kind: "probabilities", derived: "logits = log(probabilities), log-probabilities whose softmax gives the probabilities back" };
}

/** One class-score tensor training takes a cross-entropy over. */
export interface LossHead {
  /** The node holding the scores. */
  readonly node: number;
  readonly scores: OutputScores;
}

/**
 * What training takes its loss over: the output's scores, or, for a score fusion trained
 * separately (`score_fusion(train = "separate")`, Simonyan & Zisserman), each stream's own
 * scores; the loss is then the sum of the streams' cross-entropies, which gives each stream
 * exactly its own gradient because the streams share no weights.
 */
export function lossHeads(graph: IrGraph): LossHead[] {
  const output = graph.nodes.find((n) => n.id === graph.outputs[0])!;
  const heads = output.op === "score_fusion" && output.args.train !== "joint" ? output.inputs : [output.id];
  return heads.map((node) => ({ node, scores: outputScores(graph, node) }));
}
