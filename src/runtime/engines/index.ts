/**
 * Choosing and starting a training engine. `auto` (the CLI's default) takes ONNX Runtime, the
 * compiled training step, whenever the network's step builds (every operator has a gradient
 * rule), because on a CPU it runs convolutions at native speed where tfjs's JavaScript and
 * WebAssembly kernels are two to three orders of magnitude slower; it leaves ONNX Runtime for
 * tfjs only when the tfjs backend is TensorFlow's own with CUDA (@tensorflow/tfjs-node-gpu) and
 * ONNX Runtime has no CUDA provider here, or when the step cannot be built (the reason printed).
 */
import type { OnnxProvider } from "../onnx.js";
import { cudaProviderInstalled } from "../onnx.js";
import type { EngineName, EngineSetup, TrainingEngine } from "./engine.js";
import { OrtEngine, OrtTrainingUnavailable } from "./ort.js";
import { TfjsEngine } from "./tfjs.js";

export type EngineChoice = EngineName | "auto";

export const ENGINE_CHOICES: readonly EngineChoice[] = ["auto", "ort", "tfjs"];

export interface StartedEngine {
  readonly engine: TrainingEngine;
  /** Why this engine, for the user (empty when it was asked for). */
  readonly reason: string;
}

export interface EngineOptions {
  /** ONNX Runtime's execution provider (default: CUDA where installed, else CPU). */
  readonly provider?: OnnxProvider;
  /** The active tfjs backend is TensorFlow with CUDA (tfjs-node-gpu). */
  readonly tfjsGpu?: boolean;
}

/** Starts the chosen engine (the batch size is the one the ONNX step is first built for). */
export async function startEngine(choice: EngineChoice, setup: EngineSetup, batch: number, options: EngineOptions = {}): Promise<StartedEngine> {
  if (choice === "tfjs") return { engine: await TfjsEngine.create(setup), reason: "" };
  if (choice === "ort") return { engine: await OrtEngine.create(setup, batch, options), reason: "" };
  if (options.tfjsGpu && options.provider !== "cuda" && !cudaProviderInstalled()) {
    return { engine: await TfjsEngine.create(setup), reason: "TensorFlow with CUDA is installed and ONNX Runtime's CUDA provider is not" };
  }
  try {
    return {
      engine: await OrtEngine.create(setup, batch, options),
      reason:
        "the network compiles to an ONNX training step; ONNX Runtime runs it with native kernels, far faster than tfjs's JavaScript and WebAssembly backends",
    };
  } catch (error) {
    if (!(error instanceof OrtTrainingUnavailable)) throw error;
    return { engine: await TfjsEngine.create(setup), reason: `ONNX Runtime cannot train it: ${error.message}` };
  }
}

export { OrtEngine, OrtTrainingUnavailable } from "./ort.js";
export { TfjsEngine, tfjsObjective } from "./tfjs.js";
export type { EngineConfig, EngineName, EngineSetup, TrainingBatch, TrainingEngine, ViewScorer } from "./engine.js";
