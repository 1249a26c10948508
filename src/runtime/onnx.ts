/**
 * Running exported models in ONNX Runtime (onnxruntime-node): loading a file with its vnet metadata
 * (inputs, sampling protocol, class names), choosing the execution provider (CUDA where its provider
 * library is installed, else the CPU), and running a batch. The npm package installs without its
 * CUDA download here (`onnxruntime-node-install=skip` in .npmrc), so the CPU provider runs.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { LOGITS, PROBABILITIES, readMetadataProps, type OnnxInput } from "../backends/onnx/index.js";
import { protocolFromSection, type SamplingProtocol, type Section } from "../semantics/protocol.js";

export type OnnxProvider = "auto" | "cpu" | "cuda";

/** A float32 tensor in host memory, row-major. */
export interface HostTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export interface OnnxModel {
  readonly session: ort.InferenceSession;
  readonly metadata: Readonly<Record<string, string>>;
  /** Its inputs as the `vnet.inputs` metadata describes them (shapes without the batch axis). */
  readonly inputs: readonly OnnxInput[];
  /** How to sample its clips (absent for a model without one clip or image input, and for a detector: its clips are centred on keyframes). */
  readonly protocol?: SamplingProtocol;
  readonly classNames?: readonly string[];
  /** Which output equals the network's own output. */
  readonly modelOutput: "logits" | "probabilities";
  /** The execution provider running it. */
  readonly provider: "cpu" | "cuda";
}

/** Thrown for a file that is not an ONNX model exported by vnet (a user error, not a bug). */
export class OnnxModelError extends Error {}

/** True when onnxruntime-node's CUDA provider library is installed next to its binding. */
export function cudaProviderInstalled(): boolean {
  const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
  const bin = path.join(path.dirname(entry), "..", "bin");
  if (!fs.existsSync(bin)) return false;
  return fs.readdirSync(bin).some((napi) => fs.existsSync(path.join(bin, napi, process.platform, process.arch, "libonnxruntime_providers_cuda.so")));
}

/** Loads an exported model from a file or its bytes. */
export async function loadOnnxModel(source: string | Uint8Array, options: { provider?: OnnxProvider } = {}): Promise<OnnxModel> {
  let bytes: Uint8Array;
  try {
    bytes = typeof source === "string" ? fs.readFileSync(source) : source;
  } catch (error) {
    throw new OnnxModelError(`cannot read ${String(source)}: ${(error as Error).message}`);
  }
  let metadata: Record<string, string>;
  try {
    metadata = readMetadataProps(bytes);
  } catch (error) {
    throw new OnnxModelError(`${typeof source === "string" ? source : "the model"} is not an ONNX model: ${(error as Error).message}`);
  }
  // A detector's clips are centred on keyframes (its protocol gives their timing; detectors exported
  // before it was stored have none) and it returns per-box logits; a localizer (or another task's
  // network) reads no clip and has its task's outputs.
  const task = metadata["vnet.task"] ?? "classification";
  const detector = task === "detection";
  const required = detector
    ? ["vnet.inputs", "vnet.classes"]
    : task !== "classification"
      ? ["vnet.inputs"]
      : ["vnet.inputs", "vnet.protocol", "vnet.model_output"];
  const missing = required.filter((k) => !(k in metadata));
  if (missing.length)
    throw new OnnxModelError(
      `${typeof source === "string" ? source : "the model"} was not exported by vnet (no ${missing.join(", ")} in its metadata): ` +
        "a model from PyTorch or elsewhere runs in vnet through a spec of its architecture; map its weights onto that spec with " +
        "`vnet weights import <model.onnx> --spec <spec> -o <dir>`, then predict with the spec and --weights <dir> (or vnet export it)",
    );
  const wanted = options.provider ?? "auto";
  const provider = wanted === "auto" ? (cudaProviderInstalled() ? "cuda" : "cpu") : wanted;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: [provider], logSeverityLevel: 3 });
  } catch (error) {
    throw new OnnxModelError(`ONNX Runtime cannot load the model with the ${provider} provider: ${(error as Error).message.split("\n")[0]}`);
  }
  // The metadata's shapes start with the symbolic batch, "N", or a detector's box count, "K".
  const inputs = (JSON.parse(metadata["vnet.inputs"]!) as (OnnxInput & { shape: (number | string)[] })[]).map((i) => ({
    ...i,
    shape: i.shape.slice(1) as number[],
    ...((i.shape[0] as number | string) === "K" ? { boxes: true as const } : {}),
  }));
  const stored = (metadata["vnet.protocol"] !== undefined ? JSON.parse(metadata["vnet.protocol"]) : {}) as { protocol?: SamplingProtocol; sampling?: Section };
  const raw = inputs.filter((i) => i.kind === "raw" && !i.boxes);
  // Models exported before the protocol itself was stored hold the sampling section it comes from.
  const protocol = stored.protocol ?? (raw.length === 1 && task === "classification" ? protocolFromSection(raw[0]!.shape, stored.sampling) : undefined);
  return {
    session,
    metadata,
    inputs,
    ...(protocol ? { protocol } : {}),
    ...(metadata["vnet.class_names"] ? { classNames: JSON.parse(metadata["vnet.class_names"]) as string[] } : {}),
    modelOutput: metadata["vnet.model_output"] === PROBABILITIES ? "probabilities" : "logits",
    provider,
  };
}

/** Both outputs of a batch. */
export interface Scores {
  readonly logits: HostTensor;
  readonly probabilities: HostTensor;
}

/** Runs the model on one batch: a tensor per input name, batch first. */
export async function runOnnx(model: OnnxModel, feeds: Readonly<Record<string, HostTensor>>): Promise<Scores> {
  const tensors = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor("float32", t.data, [...t.shape])]));
  const results = await model.session.run(tensors);
  const host = (name: string): HostTensor => {
    const t = results[name]!;
    return { data: t.data as Float32Array, shape: [...t.dims] };
  };
  return { logits: host(LOGITS), probabilities: host(PROBABILITIES) };
}
