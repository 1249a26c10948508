/**
 * The `metadata_props` of an exported model: what a deployment needs to feed it and to sample and
 * average as training intended, and where it came from. Individual keys for quick reading
 * (`vnet.frames`, `vnet.stride` or `vnet.fps`, `vnet.test.clips`, `vnet.test.crops`,
 * `vnet.test.average`, `vnet.test.resize`, `vnet.normalize`, `vnet.class_names`, ...) and one
 * `vnet.protocol` JSON document holding the spec's whole `sampling` section, the resolved test
 * protocol and the inputs, for the data pipeline to reuse.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import type { OutputScores } from "../../ir/scores.js";
import type { CheckResult } from "../../semantics/check.js";
import type { CheckedNetwork } from "../../semantics/network.js";
import { testProtocol } from "../../semantics/protocol.js";
import { taskContract } from "../../semantics/tasks/index.js";
import { vnetVersion } from "../../version.js";
import type { OnnxInput, StreamPlan } from "./inputs.js";

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

/** The metadata of a network's exported model, given its input plan and the checked source texts (`programSources`). */
export function onnxMetadata(network: CheckedNetwork, { inputs, streams }: { inputs: readonly OnnxInput[]; streams: readonly StreamPlan[] }, scores: OutputScores, sources: ReadonlyMap<string, string>): Record<string, string> {
  const textOf = (file: string) => {
    const text = sources.get(file);
    if (text === undefined) throw new Error(`internal: no source text of ${file} to hash`);
    return text;
  };
  const specDir = path.dirname(network.file);
  const imports = [...sources.keys()].filter((f) => f !== network.file).sort();
  const describedInputs = inputs.map((i) => ({
    name: i.name,
    kind: i.kind,
    shape: [i.boxes ? "K" : "N", ...i.shape],
    layout: layoutName(i.shape.length),
    ...(i.kind === "raw" ? (i.shape.length >= 3 ? { range: [0, 1] } : {}) : { from: i.from, pipeline: i.pipeline }),
  }));
  // Normalisation of every stream: in the model when the graph computes the stream, else the pipeline's.
  const normalize = Object.fromEntries(
    streams.flatMap((stream) => {
      const layer = stream.chain.find((l) => l.op === "normalize");
      return layer ? [[stream.name, { mean: layer.args.mean, std: layer.args.std, scale: layer.args.scale ?? 255, in_model: stream.inGraph }]] : [];
    }),
  );
  const identity = {
    "vnet.version": vnetVersion(),
    "vnet.network": network.name,
    "vnet.spec": path.basename(network.file),
    "vnet.source_sha256": sha256(textOf(network.file)),
    ...(imports.length ? { "vnet.imports_sha256": JSON.stringify(Object.fromEntries(imports.map((f) => [path.relative(specDir, f), sha256(textOf(f))]))) } : {}),
    "vnet.input_layout": INPUT_LAYOUT,
    "vnet.inputs": JSON.stringify(describedInputs),
  };
  if (network.task !== "classification" && network.task !== "detection") {
    // Localizers read no clip: their outputs are the task's (src/semantics/tasks).
    const contract = taskContract(network.task);
    return { ...identity, "vnet.task": network.task, "vnet.outputs": JSON.stringify(Object.fromEntries(contract.outputs.map((o) => [o.name, `${o.shape} ${o.doc}`]))) };
  }
  const protocol = testProtocol(network);
  const metadata: Record<string, string> = {
    ...identity,
    "vnet.model_output": scores.kind,
    "vnet.outputs": JSON.stringify(
      network.task === "detection"
        ? { logits: "[K, classes] per-box class logits, one row per row of `boxes`", probabilities: "[K, classes] per-box action probabilities (sigmoid: independent classes)", boxes: "[K, 5] batch index, x1, y1, x2, y2 in the clip's pixels" }
        : { logits: "[N, classes] class logits", probabilities: "[N, classes] class probabilities", network_output: scores.kind, derived: scores.derived },
    ),
    "vnet.frames": String(protocol.frames),
    ...(protocol.fps !== undefined ? { "vnet.fps": String(protocol.fps) } : { "vnet.stride": String(protocol.stride) }),
    "vnet.test.clips": String(protocol.clips),
    "vnet.test.crops": protocol.crops,
    "vnet.test.average": protocol.average,
    ...(protocol.resize !== undefined ? { "vnet.test.resize": String(protocol.resize) } : {}),
    "vnet.normalize": JSON.stringify(normalize),
    ...(network.classes !== undefined ? { "vnet.classes": String(network.classes) } : {}),
    ...(network.classNames ? { "vnet.class_names": JSON.stringify(network.classNames) } : {}),
    "vnet.protocol": JSON.stringify({ sampling: network.sections.sampling ?? {}, test: protocol, inputs: describedInputs }),
    "vnet.task": network.task,
  };
  return metadata;
}
