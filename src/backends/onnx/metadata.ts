/**
 * The `metadata_props` of an exported model: what a deployment needs to feed it and to sample and
 * average as training intended, and where it came from. Individual keys for quick reading
 * (`vnet.frames`, `vnet.stride` or `vnet.fps`, `vnet.test.clips`, `vnet.test.crops`,
 * `vnet.test.average`, `vnet.test.resize`, `vnet.normalize`, `vnet.class_names`, ...) and one
 * `vnet.protocol` JSON document holding the spec's whole `sampling` section, the resolved sampling
 * protocol (`SamplingProtocol`, what the data pipeline samples by) and the inputs. Everything comes
 * from the IR graph.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import type { IrGraph } from "../../ir/graph.js";
import type { OutputScores } from "../../ir/scores.js";
import type { CheckResult } from "../../semantics/check.js";
import { testTiming } from "../../semantics/protocol.js";
import { taskContract } from "../../semantics/tasks/index.js";
import { vnetVersion } from "../../version.js";
import type { OnnxInput } from "./inputs.js";

/** How inputs are laid out, in words (also the `vnet.input_layout` value). */
export const INPUT_LAYOUT = "channels-last: clips [N, T, H, W, C], images [N, H, W, C], sequences [N, T, F]; raw clips and images hold values in [0, 1]";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Layout letters of an input of this rank (without batch). */
function layoutName(rank: number): string {
  return ["NC", "NTC", "NHWC", "NTHWC"][rank - 1] ?? `rank ${rank + 1}`;
}

/** The text of every file a check read, by file: what the metadata hashes. */
export function programSources(result: CheckResult): Map<string, string> {
  return new Map([...result.program.modules].map(([file, module]) => [file, module.text]));
}

/** The normalisation each model input goes through in the graph, by model input name. */
function normalization(graph: IrGraph): Record<string, { mean: unknown; std: unknown; scale: unknown; in_model: boolean }> {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const entries = graph.modelInputs.flatMap((input) => {
    for (let node = byId.get(input.node); node && node.op !== "input"; node = byId.get(node.inputs[0]!)) {
      if (node.op === "normalize") return [[input.name, { mean: node.args.mean, std: node.args.std, scale: node.args.scale ?? 255, in_model: true }] as const];
    }
    return [];
  });
  return Object.fromEntries(entries);
}

/** The metadata of a graph's exported model, given its inputs and the checked source texts (`programSources`). */
export function onnxMetadata(graph: IrGraph, inputs: readonly OnnxInput[], scores: OutputScores, sources: ReadonlyMap<string, string>): Record<string, string> {
  const textOf = (file: string) => {
    const text = sources.get(file);
    if (text === undefined) throw new Error(`internal: no source text of ${file} to hash`);
    return text;
  };
  const specDir = path.dirname(graph.file);
  const imports = [...sources.keys()].filter((f) => f !== graph.file).sort();
  const { protocol } = graph;
  const timing = protocol ? testTiming(protocol) : undefined;
  const describedInputs = inputs.map((i) => ({
    name: i.name,
    kind: i.kind,
    shape: [i.boxes ? "K" : "N", ...i.shape],
    layout: layoutName(i.shape.length),
    ...(i.kind === "raw" ? (i.shape.length >= 3 ? { range: [0, 1] } : {}) : { from: i.from, pipeline: i.pipeline }),
  }));
  const identity = {
    "vnet.version": vnetVersion(),
    "vnet.network": graph.name,
    "vnet.spec": path.basename(graph.file),
    "vnet.source_sha256": sha256(textOf(graph.file)),
    ...(imports.length
      ? { "vnet.imports_sha256": JSON.stringify(Object.fromEntries(imports.map((f) => [path.relative(specDir, f), sha256(textOf(f))]))) }
      : {}),
    "vnet.input_layout": INPUT_LAYOUT,
    "vnet.inputs": JSON.stringify(describedInputs),
  };
  if (graph.task === "detection") {
    // Per-box rows; the class names and clip geometry a detector's user needs to feed it.
    const outputs = {
      logits: "[K, classes] per-box class logits, one row per row of `boxes`",
      probabilities: "[K, classes] per-box action probabilities (sigmoid: independent classes)",
      boxes: "[K, 5] batch index, x1, y1, x2, y2 in the clip's pixels",
    };
    return {
      ...identity,
      "vnet.task": graph.task,
      "vnet.outputs": JSON.stringify(outputs),
      ...(protocol && timing
        ? {
            "vnet.frames": String(protocol.frames),
            ...(timing.fps !== undefined ? { "vnet.fps": String(timing.fps) } : { "vnet.stride": String(timing.stride ?? 1) }),
          }
        : {}),
      "vnet.normalize": JSON.stringify(normalization(graph)),
      ...(graph.classes !== undefined ? { "vnet.classes": String(graph.classes) } : {}),
      ...(graph.classNames ? { "vnet.class_names": JSON.stringify(graph.classNames) } : {}),
      // The keyframe clips' timing (src/data/sampling.ts keyframeFrames).
      "vnet.protocol": JSON.stringify({ sampling: graph.sampling ?? {}, ...(protocol ? { protocol } : {}), inputs: describedInputs }),
    };
  }
  if (graph.task !== "classification") {
    // Other tasks read no clip: their outputs are the task's (src/semantics/tasks).
    const contract = taskContract(graph.task);
    return {
      ...identity,
      "vnet.task": graph.task,
      "vnet.outputs": JSON.stringify(Object.fromEntries(contract.outputs.map((o) => [o.name, `${o.shape} ${o.doc}`]))),
    };
  }
  const metadata: Record<string, string> = {
    ...identity,
    "vnet.model_output": scores.kind,
    "vnet.outputs": JSON.stringify({
      logits: "[N, classes] class logits",
      probabilities: "[N, classes] class probabilities",
      network_output: scores.kind,
      derived: scores.derived,
    }),
    ...(protocol && timing
      ? {
          "vnet.frames": String(protocol.frames),
          ...(timing.fps !== undefined ? { "vnet.fps": String(timing.fps) } : { "vnet.stride": String(timing.stride ?? 1) }),
          "vnet.test.clips": String(protocol.test.clips),
          "vnet.test.crops": protocol.test.crops,
          "vnet.test.average": protocol.test.average,
          "vnet.test.resize": String(protocol.test.resize),
        }
      : {}),
    "vnet.normalize": JSON.stringify(normalization(graph)),
    ...(graph.classes !== undefined ? { "vnet.classes": String(graph.classes) } : {}),
    ...(graph.classNames ? { "vnet.class_names": JSON.stringify(graph.classNames) } : {}),
    "vnet.protocol": JSON.stringify({ sampling: graph.sampling ?? {}, ...(protocol ? { protocol } : {}), inputs: describedInputs }),
    "vnet.task": graph.task,
  };
  return metadata;
}
