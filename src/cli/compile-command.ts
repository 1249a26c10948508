/**
 * `vnet compile <spec> --target tfjs -o <dir>`: checks a spec, lowers it through the IR pipeline,
 * builds the tfjs LayersModel and saves it as model.json + weights.bin, loadable with plain
 * `tf.loadLayersModel` once vnet's layer registry is imported. `--target onnx -o model.onnx`
 * exports the same freshly initialised model to ONNX (`--verify` checks it in ONNX Runtime).
 * `--dump-ir` prints the lowered IR. Loaded on demand by the CLI, so the other commands never load tfjs.
 */
import * as path from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { compileToTfjs } from "../backends/tfjs/compile.js";
import { dumpIr } from "../ir/dump.js";
import { lowerNetwork } from "../ir/pipeline.js";
import { describeSelection, selectBackend, type BackendChoice } from "../runtime/backend.js";
import { saveModel } from "../runtime/model-io.js";
import type { CheckResult } from "../semantics/check.js";
import { totals } from "../semantics/network.js";
import { checkOnnxOutput, writeOnnx } from "./export-command.js";
import { checkNetwork } from "./train-command.js";

export interface CompileCommandHooks {
  /** Expands file and directory arguments (throwing the CLI's usage error for a missing path). */
  readonly expand: (paths: readonly string[]) => string[];
  /** Renders diagnostics with code frames. */
  readonly render: (diagnostics: readonly Diagnostic[], result: CheckResult) => string;
  /** Makes the CLI's usage error (exit code 2). */
  readonly usage: (message: string) => Error;
}

const TARGETS = ["tfjs", "onnx"];
const BACKENDS: readonly BackendChoice[] = ["node-gpu", "node", "wasm", "cpu"];

interface CompileArgs {
  spec: string;
  target: string;
  out?: string;
  network?: string;
  backend?: BackendChoice;
  seed: number;
  dumpIr: boolean;
  verify: boolean;
}

function parse(args: readonly string[], hooks: CompileCommandHooks): CompileArgs {
  const positional: string[] = [];
  const values = new Map<string, string>();
  let dump = false;
  let verify = false;
  const valued = new Map([["-o", "out"], ["--out", "out"], ["--target", "target"], ["--network", "network"], ["--backend", "backend"], ["--seed", "seed"]]);
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split("=", 2) as [string, string | undefined];
    if (flag === "--dump-ir") dump = true;
    else if (flag === "--verify") verify = true;
    else if (valued.has(flag)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw hooks.usage(`${flag} needs a value`);
      values.set(valued.get(flag)!, value);
    } else if (flag.startsWith("-")) throw hooks.usage(`unknown option ${flag} for vnet compile`);
    else positional.push(args[i]!);
  }
  if (positional.length !== 1) throw hooks.usage("vnet compile takes one spec file: vnet compile <spec> --target tfjs -o <dir>");
  const target = values.get("target") ?? "tfjs";
  if (!TARGETS.includes(target)) throw hooks.usage(`unknown --target ${target} (${TARGETS.join(", ")})`);
  const backend = values.get("backend");
  if (backend !== undefined && !BACKENDS.includes(backend as BackendChoice)) throw hooks.usage(`unknown --backend ${backend} (${BACKENDS.join(", ")})`);
  const seed = Number(values.get("seed") ?? 0);
  if (!Number.isInteger(seed)) throw hooks.usage(`--seed needs an integer, got ${values.get("seed")}`);
  if (!values.has("out") && !dump) throw hooks.usage(`vnet compile needs an output ${target === "onnx" ? "file: -o model.onnx" : "directory: -o <dir>"} (or --dump-ir)`);
  if (verify && target !== "onnx") throw hooks.usage("--verify checks an ONNX export: use it with --target onnx");
  if (target === "onnx" && values.has("out")) checkOnnxOutput(values.get("out")!, hooks.usage);
  return {
    spec: positional[0]!,
    target,
    seed,
    dumpIr: dump,
    verify,
    ...(values.has("out") ? { out: values.get("out")! } : {}),
    ...(values.has("network") ? { network: values.get("network")! } : {}),
    ...(backend ? { backend: backend as BackendChoice } : {}),
  };
}

/** Runs `vnet compile`; returns the exit code (0 written, 1 errors in the spec, 2 usage). */
export async function compileCommand(args: readonly string[], out: (s: string) => void, hooks: CompileCommandHooks): Promise<number> {
  const options = parse(args, hooks);
  const checked = checkNetwork(options.spec, options.network, out, hooks);
  if (typeof checked === "number") return checked;
  const { network, result } = checked;
  if (options.dumpIr) out(dumpIr(lowerNetwork(network)));
  if (options.out === undefined) return 0;

  const selection = await selectBackend(options.backend ? { force: options.backend } : {});
  out(describeSelection(selection));
  const { model, graph, diagnostics } = compileToTfjs(network, { seed: options.seed });
  if (!model) {
    out(hooks.render(diagnostics, result));
    return 1;
  }
  if (options.target === "onnx") {
    try {
      return await writeOnnx(network, result, model, `fresh weights, seed ${options.seed}`, options.out, { verify: options.verify, seed: options.seed }, out, hooks);
    } finally {
      model.dispose();
    }
  }
  await saveModel(model, options.out);
  const counts = totals(network);
  const inputs = graph.inputs.map((i) => `${i.name} [N, ${i.shape.join(", ")}]`).join(", ");
  const frozen = counts.frozen ? ` (+${counts.frozen.toLocaleString("en-US")} frozen)` : "";
  out(`compiled ${network.name}: ${model.layers.length} layers, ${counts.trainable.toLocaleString("en-US")} trainable parameters${frozen}; inputs ${inputs}`);
  out(`wrote ${path.join(options.out, "model.json")} and ${path.join(options.out, "weights.bin")}`);
  model.dispose();
  return 0;
}
