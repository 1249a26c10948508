/**
 * The ordered pass pipeline from a checked network to the graph backends lower. Each pass is a
 * pure function from graph to graph; the order matters:
 * 1. prune-unreachable: drop what no output depends on;
 * 2. lower-per-frame: inline per_frame bodies between fold_time / unfold_time;
 * 3. expand-composites: conv2plus1d, lateral and nonlocal become primitives;
 * 4. explicit-padding: "same" / "valid" / pad nodes, ceil mode resolved (after 3, whose convs
 *    and pools need it too);
 * 5. declare-weights: names and shapes of every weight (after every pass that creates nodes);
 * 6. annotate-layout: channels-last layouts, folded time marked.
 */
import type { CheckedNetwork } from "../semantics/network.js";
import { buildIr } from "./build.js";
import type { IrGraph } from "./graph.js";
import { ANNOTATE_LAYOUT, annotateLayout } from "./passes/annotate-layout.js";
import { DECLARE_WEIGHTS, declareWeights } from "./passes/declare-weights.js";
import { EXPAND_COMPOSITES, expandComposites } from "./passes/expand-composites.js";
import { EXPLICIT_PADDING, explicitPadding } from "./passes/explicit-padding.js";
import { LOWER_PER_FRAME, lowerPerFrame } from "./passes/lower-per-frame.js";
import { PRUNE_UNREACHABLE, pruneUnreachable } from "./passes/prune-unreachable.js";
import { verifyIr } from "./verify.js";

export interface Pass {
  readonly name: string;
  readonly run: (graph: IrGraph) => IrGraph;
}

export const PIPELINE: readonly Pass[] = [
  { name: PRUNE_UNREACHABLE, run: pruneUnreachable },
  { name: LOWER_PER_FRAME, run: lowerPerFrame },
  { name: EXPAND_COMPOSITES, run: expandComposites },
  { name: EXPLICIT_PADDING, run: explicitPadding },
  { name: DECLARE_WEIGHTS, run: declareWeights },
  { name: ANNOTATE_LAYOUT, run: annotateLayout },
];

/** A broken IR invariant: a compiler bug, with every problem the verifier found. */
export class IrVerificationError extends Error {
  constructor(
    readonly stage: string,
    readonly problems: readonly string[],
  ) {
    super(`internal compiler error: the IR is malformed after ${stage}:\n  ${problems.slice(0, 20).join("\n  ")}`);
    this.name = "IrVerificationError";
  }
}

export interface PipelineOptions {
  /** Run the verifier on the input and after every pass (default true; it is linear and cheap). */
  readonly verify?: boolean;
  /** Called with each pass's result, e.g. to dump the IR between passes. */
  readonly afterEach?: (pass: string, graph: IrGraph) => void;
}

/** Runs every pass in order. Throws IrVerificationError when a pass breaks an invariant. */
export function runPipeline(graph: IrGraph, options: PipelineOptions = {}): IrGraph {
  const verify = options.verify !== false;
  const check = (stage: string, g: IrGraph) => {
    if (!verify) return;
    const problems = verifyIr(g);
    if (problems.length) throw new IrVerificationError(stage, problems);
  };
  check("build", graph);
  for (const pass of PIPELINE) {
    graph = pass.run(graph);
    check(pass.name, graph);
    options.afterEach?.(pass.name, graph);
  }
  return graph;
}

/** Builds a checked network's IR and runs the whole pipeline on it. */
export function lowerNetwork(network: CheckedNetwork, options: PipelineOptions = {}): IrGraph {
  return runPipeline(buildIr(network), options);
}
