/**
 * Flags that several commands take, declared once so that each means the same everywhere (the
 * same name, value, range and help text). A command spreads the groups it takes into its own
 * `flags`.
 */
import type { BackendChoice } from "../runtime/backend.js";
import type { ChoiceFlag, NumberFlag, StringFlag } from "./args.js";

export const BACKENDS = ["node-gpu", "node", "wasm", "cpu"] as const satisfies readonly BackendChoice[];

/** `--network NAME`: which network of a spec file with several. */
export const NETWORK_FLAG = { type: "string", value: "NAME", doc: "the network to use when the spec file defines several" } as const satisfies StringFlag;

/** `--backend`: the tfjs backend (otherwise the fastest that works). */
export const BACKEND_FLAG = { type: "choice", choices: BACKENDS, doc: "the tfjs backend (default: the fastest that starts)" } as const satisfies ChoiceFlag;

/** `--engine`: which engine trains (train) or runs the model (eval). */
export const ENGINE_FLAG = {
  type: "choice",
  choices: ["auto", "ort", "tfjs"],
  default: "auto",
  doc: "ort: ONNX Runtime runs the network's compiled training step; tfjs: tfjs's autodiff on the --backend; auto: ort wherever the network compiles to it",
} as const satisfies ChoiceFlag;

/** `--runtime` of the commands that run a spec's trained weights on one video (predict, detect). */
export const RUNTIME_FLAG = {
  type: "choice",
  choices: ["onnx", "tfjs"],
  doc: "for a spec: onnx (the weights exported to ONNX in memory, run in ONNX Runtime; the default where the network exports) or tfjs",
} as const satisfies ChoiceFlag;

/** `--engine` of the commands that run a trained model (eval). */
export const RUN_ENGINE_FLAG = {
  type: "choice",
  choices: ["auto", "ort", "tfjs"],
  default: "auto",
  doc: "ort: ONNX Runtime runs the weights exported to ONNX in memory; tfjs: the tfjs model on --backend; auto: ort wherever the network exports",
} as const satisfies ChoiceFlag;

/** `--provider`: ONNX Runtime's execution provider. */
export const PROVIDER_FLAG = {
  type: "choice",
  choices: ["auto", "cpu", "cuda"],
  default: "auto",
  doc: "ONNX Runtime execution provider (auto: CUDA where its provider library is installed)",
} as const satisfies ChoiceFlag;

/** `--seed N`: weight initialisation and data sampling. */
export const SEED_FLAG = {
  type: "int",
  value: "N",
  min: 0,
  max: 2 ** 32 - 1,
  doc: "random seed (weight initialisation, builtin data, sampling; default 0)",
} as const satisfies NumberFlag;

/** The data loader's flags, shared by train and eval. */
export const LOADING_FLAGS = {
  cacheDir: { type: "string", value: "DIR", doc: "probe and optical-flow cache (default ~/.cache/vnet)" },
  workers: { type: "int", min: 0, max: 256, doc: "video-loading worker threads (0: load on the main thread)" },
  prefetch: { type: "int", min: 1, max: 4096, doc: "clips loaded ahead of training" },
} as const satisfies Record<string, StringFlag | NumberFlag>;

/** The builtin and on-disk datasets `--data` names. */
export const DATA_VALUE = "builtin:motion|builtin:motion-appearance|FOLDER|LIST";
