/**
 * Choosing and starting a training engine, a classifier's or a localizer's and a detector's (the
 * same choice). `auto` (the CLI's default) takes ONNX Runtime, the
 * compiled training step, whenever the network's step builds (every operator has a gradient
 * rule), because on a CPU it runs convolutions at native speed where tfjs's JavaScript and
 * WebAssembly kernels are two to three orders of magnitude slower; it leaves ONNX Runtime for
 * tfjs only when the tfjs backend is TensorFlow's own with CUDA (@tensorflow/tfjs-node-gpu) and
 * ONNX Runtime has no CUDA provider here, or when the step cannot be built (the reason printed).
 */
import type { OnnxProvider } from "../onnx.js";
import { cudaProviderInstalled } from "../onnx.js";
import type { EngineName, EngineSetup, ModelSetup, TaskEngine, TrainingEngine } from "./engine.js";
import { OrtEngine, OrtTrainingUnavailable } from "./ort.js";
import { TfjsEngine, TfjsTaskEngine } from "./tfjs.js";

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

/** ONNX Runtime where it can train the network (and TensorFlow with CUDA is not the faster choice), else tfjs: the engine and why. */
async function choose<E>(
  choice: EngineChoice,
  options: EngineOptions,
  ortEngine: () => Promise<E>,
  tfjsEngine: () => Promise<E>,
): Promise<{ engine: E; reason: string }> {
  if (choice === "tfjs") return { engine: await tfjsEngine(), reason: "" };
  if (choice === "ort") return { engine: await ortEngine(), reason: "" };
  if (options.tfjsGpu && options.provider !== "cuda" && !cudaProviderInstalled()) {
    return { engine: await tfjsEngine(), reason: "TensorFlow with CUDA is installed and ONNX Runtime's CUDA provider is not" };
  }
  try {
    return {
      engine: await ortEngine(),
      reason:
        "the network compiles to an ONNX training step; ONNX Runtime runs it with native kernels, far faster than tfjs's JavaScript and WebAssembly backends",
    };
  } catch (error) {
    if (!(error instanceof OrtTrainingUnavailable)) throw error;
    return { engine: await tfjsEngine(), reason: `ONNX Runtime cannot train it: ${error.message}` };
  }
}

/** Starts the chosen engine of a classifier (the batch size is the one the ONNX step is first built for). */
export async function startEngine(choice: EngineChoice, setup: EngineSetup, batch: number, options: EngineOptions = {}): Promise<StartedEngine> {
  return choose<TrainingEngine>(
    choice,
    options,
    () => OrtEngine.create(setup, batch, options),
    () => TfjsEngine.create(setup),
  );
}

/** Starts the chosen engine of a localizer or a detector (its ONNX step first built for `batch` examples and `boxes` boxes). */
export async function startTaskEngine(
  choice: EngineChoice,
  setup: ModelSetup,
  batch: number,
  options: EngineOptions = {},
  boxes = 0,
): Promise<{ engine: TaskEngine; reason: string }> {
  return choose<TaskEngine>(
    choice,
    options,
    () => OrtEngine.create(setup, batch, options, boxes),
    () => TfjsTaskEngine.create(setup),
  );
}

export { OrtEngine, OrtTrainingUnavailable } from "./ort.js";
export { TfjsEngine, TfjsTaskEngine, tfjsObjective } from "./tfjs.js";
export type { EngineConfig, EngineName, EngineSetup, ModelSetup, TaskBatch, TaskEngine, TrainingBatch, TrainingEngine, ViewScorer } from "./engine.js";
