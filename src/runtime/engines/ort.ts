/**
 * The ONNX Runtime training engine, of classifiers (`step`) and of localizers and detectors
 * (`minimizeTask`): the network's training step compiled to one ONNX model
 * (src/backends/onnx/training: training-mode forward, the task's loss, gradients from the VJP
 * table, the optimizer update) run by onnxruntime-node's stock CPU build (or its CUDA provider
 * where installed), one session per batch size, built once and cached (the least recently used
 * released beyond STEP_SESSIONS: a detector's step is built per batch size and box count).
 *
 * State between steps: every weight, batch-norm statistic and optimizer slot is one Float32Array
 * in ONNX's layout that ONNX Runtime reads in place as an input (no copy) and whose next value is
 * an output of the step. onnxruntime-node 1.23 hands each output back as a new JavaScript buffer
 * (one copy of the updated state per step, made by the binding); the previous buffers are then
 * garbage. Pre-allocated fetches do not avoid it: the binding writes the output into the given
 * tensor and still returns a fresh copy (checked on 1.23.2), so ping-pong buffers would only add a
 * second write. Only the batch, the labels (a localizer's BMN targets, a detector's box labels),
 * the scalars (learning rate, Adam's bias corrections) and a detector's roi_align sampling
 * matrices are made per step in JavaScript, plus dropout masks, drawn from a generator seeded by
 * the run's seed, epoch and step so a resumed run draws the same ones. A detector's step is built
 * per batch size and box count (K is static in the graph).
 *
 * Validation (a classifier's scores, a localizer's or a detector's outputs: `score`, `infer`) runs
 * one inference session of the evaluation graph (the inference forward pass with the state as
 * inputs; batch and box count symbolic), built once and fed the current state: no tfjs model and
 * no re-export per epoch.
 *
 * Checkpoints are the engine-neutral format (src/runtime/checkpoint.ts): weights converted back
 * to vnet's layout under their tfjs names, the optimizer slots in tfjs's order and names (`iter`,
 * then `<weight>/momentum` or Adam's `/m` and `/v`), Adam's beta powers as tfjs keeps them; the
 * tfjs engine resumes from them and this engine resumes from the tfjs engine's.
 */
import * as ort from "onnxruntime-node";
import type * as tf from "@tensorflow/tfjs";
import {
  ADAM_DEFAULTS,
  BIAS_CORRECTION1,
  BIAS_CORRECTION2,
  buildEvaluationGraph,
  buildTrainingStep,
  LABELS,
  LEARNING_RATE,
  LOSS,
  OUTPUT,
  SCORES,
  targetInput,
  type DropoutMask,
  type EvaluationGraph,
  type RoiSampling,
  type TargetInput,
  type OptimizerSpec,
  type StateTensor,
  type TrainingStepGraph,
} from "../../backends/onnx/index.js";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { emitTfjs } from "../../backends/tfjs/emit.js";
import { seededRandom } from "../../data/motion.js";
import { mergeViews, type LoadedViews } from "../../data/views.js";
import type { OnnxInput } from "../../backends/onnx/index.js";
import { storedWeightName } from "../../ir/weights.js";
import { roiAlignMatrix } from "../../ops/roi-align.js";
import { TASK_TARGETS, type TargetedTask } from "../../semantics/tasks/index.js";
import type { CheckpointContents, NamedTensor, Progress } from "../checkpoint.js";
import { slotOf } from "../checkpoint.js";
import { namedFeeds } from "../streams.js";
import { cudaProviderInstalled, type HostTensor, type OnnxProvider } from "../onnx.js";
import {
  taskBatchRows,
  type EngineConfig,
  type EngineSetup,
  type ModelSetup,
  type TaskBatch,
  type TaskEngine,
  type TaskInference,
  type TrainingBatch,
  type TrainingEngine,
  type ViewScorer,
} from "./engine.js";
import { graphModel, modelContents } from "./tfjs.js";

/** The network cannot train on ONNX Runtime: the located diagnostics say why. */
export class OrtTrainingUnavailable extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join("; "));
    this.name = "OrtTrainingUnavailable";
  }
}

export interface OrtEngineOptions {
  readonly provider?: OnnxProvider;
}

/** The optimizer of the training step for the loop's settings (tfjs's Adam defaults). */
export function optimizerSpec(config: EngineConfig): OptimizerSpec {
  return config.optimizer === "adam"
    ? { kind: "adam", ...ADAM_DEFAULTS, decoupled: false }
    : { kind: "sgd", momentum: config.momentum, nesterov: config.nesterov };
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const tensor = (data: Float32Array, dims: readonly number[]) => new ort.Tensor("float32", data, [...dims]);
const host = (t: HostTensor) => tensor(t.data, t.shape);

interface StepSession {
  readonly session: ort.InferenceSession;
  readonly inputs: readonly OnnxInput[];
  readonly masks: readonly DropoutMask[];
  readonly rois: readonly RoiSampling[];
  readonly targets: readonly TargetInput[];
  readonly state: readonly StateTensor[];
  readonly classes: number;
}

/** What the engine needs of a network: a classifier's setup has its clip protocol and flow streams too. */
type OrtSetup = ModelSetup & Partial<Pick<EngineSetup, "flows" | "protocol">>;

/** How many step sessions an engine keeps (a classifier's and a localizer's need two: the batch size and the last batch's). */
export const STEP_SESSIONS = 4;

/** The key of a step session: the batch size, and a detector's box count. */
const stepKey = (batch: number, boxes: number) => `${batch}x${boxes}`;

/**
 * The feeds of a localizer's or a detector's batch to its training step: the model's inputs, the
 * loss's targets (`target/<key>`), and each roi_align's sampling matrix from the batch's boxes.
 */
export function taskFeeds(step: Pick<TrainingStepGraph, "inputs" | "targets" | "rois">, task: TargetedTask, batch: TaskBatch): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  step.inputs.forEach((input, i) => (feeds[input.name] = host(batch.inputs[i]!)));
  for (const target of step.targets) {
    const key = TASK_TARGETS[task].find((k) => targetInput(k) === target.name)!;
    feeds[target.name] = host(batch.targets[key]!);
  }
  for (const roi of step.rois) {
    const columns = roi.map.batch * roi.map.height * roi.map.width;
    const matrix = roiAlignMatrix(feeds[roi.boxes]!.data as Float32Array, roi.map, roi.geometry);
    feeds[roi.input] = tensor(matrix, [matrix.length / columns, columns]);
  }
  return feeds;
}

export class OrtEngine implements TrainingEngine, TaskEngine {
  readonly name = "ort" as const;
  readonly score: ViewScorer;
  readonly infer: TaskInference;
  /** The step sessions by batch size and box count, least recently used first (at most STEP_SESSIONS). */
  private readonly steps = new Map<string, Promise<StepSession>>();
  /** The inference session of the evaluation graph, built on first use and fed the current state. */
  private evaluation: Promise<ort.InferenceSession> | undefined;
  private iterations: number;
  private accBeta1: number;
  private accBeta2: number;

  private constructor(
    private readonly setup: OrtSetup,
    private readonly provider: "cpu" | "cuda",
    /** The state by graph input name, in ONNX's layout. */
    private readonly state: Map<string, Float32Array>,
    /** The state tensors of the training step (the same in every batch size's session). */
    private readonly tensors: readonly StateTensor[],
    /** The checkpoint's model.json fields and its weights' names and shapes, in order. */
    private readonly layout: Pick<CheckpointContents, "model"> & { readonly weights: readonly { name: string; shape: readonly number[] }[] },
    first: { readonly key: string; readonly session: StepSession },
    optimizer: { iterations: number; accBeta1: number; accBeta2: number },
    /** The inference forward pass with the state as inputs (validation, without a tfjs model or a re-export). */
    private readonly evaluationGraph: EvaluationGraph,
  ) {
    this.steps.set(first.key, Promise.resolve(first.session));
    this.iterations = optimizer.iterations;
    this.accBeta1 = optimizer.accBeta1;
    this.accBeta2 = optimizer.accBeta2;
    this.score = (views) => this.evaluate(views);
    this.infer = (inputs) => this.inferTask(inputs);
  }

  /** How many step sessions are held (a detector builds one per batch size and box count; at most STEP_SESSIONS). */
  get stepSessions(): number {
    return this.steps.size;
  }

  get description(): string {
    return `ONNX Runtime ${ort.env.versions.node ?? ""} (${this.provider} provider)`.replace("  ", " ");
  }

  /**
   * The engine of a network, starting from fresh weights (the tfjs engine's seeded initialisation,
   * then `init`) or a checkpoint, its first step built for `batch` (and a detector's `boxes`).
   * Throws OrtTrainingUnavailable when the step cannot be built.
   */
  static async create(setup: OrtSetup, batch: number, options: OrtEngineOptions = {}, boxes = 0): Promise<OrtEngine> {
    const provider = (options.provider ?? "auto") === "auto" ? (cudaProviderInstalled() ? "cuda" : "cpu") : (options.provider as "cpu" | "cuda");
    const probe = OrtEngine.build(setup, batch, boxes);
    if (probe.diagnostics.length) throw new OrtTrainingUnavailable(probe.diagnostics);
    const evaluation = buildEvaluationGraph(setup.graph);
    if (evaluation.diagnostics.length) throw new OrtTrainingUnavailable(evaluation.diagnostics);

    // Starting weights by tfjs name, channels-last: a checkpoint's, or a fresh tfjs model's (the same initialisation as the tfjs engine).
    let contents: Pick<CheckpointContents, "model" | "weights">;
    let optimizerState: { tensors: readonly NamedTensor[]; scalars: Readonly<Record<string, number>> } = { tensors: [], scalars: {} };
    if (setup.start.kind === "checkpoint") {
      contents = setup.start.contents;
      optimizerState = { tensors: setup.start.contents.optimizer, scalars: setup.start.contents.optimizerScalars };
    } else {
      const compiled = emitTfjs(setup.graph, { seed: setup.seed });
      if (!compiled.model) throw new Error(`${setup.graph.name} does not compile to tfjs: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
      setup.start.init?.(compiled.model);
      contents = await modelContents(compiled.model);
      compiled.model.dispose();
    }
    const byName = new Map(contents.weights.map((w) => [w.name, w]));
    const state = new Map<string, Float32Array>();
    for (const s of probe.state.filter((t) => t.decl)) {
      const source = byName.get(storedWeightName(s.decl!));
      if (!source || source.shape.join() !== s.decl!.shape.join())
        throw new Error(`the starting weights have no ${storedWeightName(s.decl!)} of shape [${s.decl!.shape.join(", ")}]`);
      state.set(s.input, s.layout ? s.layout.toOnnx(source.values, s.decl!.shape).data : Float32Array.from(source.values));
    }
    // Optimizer slots by weight and kind (tfjs's names, suffixes dropped); missing ones start at zero.
    const slots = new Map<string, Float32Array>();
    for (const t of optimizerState.tensors) {
      const slot = slotOf(t.name);
      if (slot) slots.set(`${slot.weight}\u0000${slot.slot}`, t.values);
    }
    for (const s of probe.state.filter((t) => t.kind === "slot")) {
      const weight = probe.state.find((t) => t.input === s.of)!;
      const saved = slots.get(`${storedWeightName(weight.decl!)}\u0000${s.slot}`);
      state.set(
        s.input,
        saved && weight.layout ? weight.layout.toOnnx(saved, weight.decl!.shape).data : saved ? Float32Array.from(saved) : new Float32Array(size(s.dims)),
      );
    }
    const iterations = optimizerState.tensors.find((t) => t.name === "iter")?.values[0] ?? 0;
    const beta1 = Math.fround(ADAM_DEFAULTS.beta1);
    const beta2 = Math.fround(ADAM_DEFAULTS.beta2);
    const optimizer = {
      iterations,
      accBeta1: optimizerState.scalars.accBeta1 ?? Math.fround(beta1 ** (iterations + 1)),
      accBeta2: optimizerState.scalars.accBeta2 ?? Math.fround(beta2 ** (iterations + 1)),
    };
    const layout = {
      model: { ...contents.model, userDefinedMetadata: setup.metadata as Record<string, object> },
      weights: contents.weights.map((w) => ({ name: w.name, shape: w.shape })),
    };
    const first = { key: stepKey(batch, boxes), session: await OrtEngine.session(probe, provider) };
    return new OrtEngine(setup, provider, state, probe.state, layout, first, optimizer, evaluation);
  }

  /** The training step of `setup`'s network for one batch size and box count. */
  private static build(setup: OrtSetup, batch: number, boxes: number): ReturnType<typeof buildTrainingStep> {
    return buildTrainingStep(setup.graph, {
      batch,
      boxes,
      optimizer: optimizerSpec(setup.config),
      weightDecay: setup.config.weightDecay,
      labelSmoothing: setup.config.labelSmoothing,
    });
  }

  private static async session(step: ReturnType<typeof buildTrainingStep>, provider: "cpu" | "cuda"): Promise<StepSession> {
    const session = await ort.InferenceSession.create(step.bytes!, { executionProviders: [provider], logSeverityLevel: 3, graphOptimizationLevel: "all" });
    return { session, inputs: step.inputs, masks: step.masks, rois: step.rois, targets: step.targets, state: step.state, classes: step.classes };
  }

  /**
   * The step session of a batch size and box count: cached, the least recently used one released
   * beyond STEP_SESSIONS (a detector's batches have as many box counts as the data has, and each
   * session holds the step's buffers).
   */
  private async stepSession(batch: number, boxes = 0): Promise<StepSession> {
    const key = stepKey(batch, boxes);
    let session = this.steps.get(key);
    if (session) this.steps.delete(key);
    else session = OrtEngine.session(OrtEngine.build(this.setup, batch, boxes), this.provider);
    this.steps.set(key, session);
    while (this.steps.size > STEP_SESSIONS) {
      const [oldest, evicted] = this.steps.entries().next().value as [string, Promise<StepSession>];
      this.steps.delete(oldest);
      await (await evicted).session.release();
    }
    return session;
  }

  /** Dropout masks of one step: each unit kept with probability 1 - rate, as 1 / (1 - rate); per-box masks have `boxes` rows per unit of `rows`. */
  private masks(masks: readonly DropoutMask[], batch: number, seed: number, boxes = 0): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    masks.forEach((mask, k) => {
      const random = seededRandom((seed ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0);
      const rows = (mask.perBox ? boxes : batch) * mask.rows;
      const data = new Float32Array(rows * size(mask.shape));
      for (let i = 0; i < data.length; i++) data[i] = random() >= mask.rate ? mask.scale : 0;
      feeds[mask.input] = tensor(data, [rows, ...mask.shape]);
    });
    return feeds;
  }

  /** The scalars of a step (learning rate, Adam's bias corrections) and the state. */
  private stateFeeds(step: StepSession, lr: number): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = { [LEARNING_RATE]: tensor(Float32Array.of(lr), []) };
    if (this.setup.config.optimizer === "adam") {
      feeds[BIAS_CORRECTION1] = tensor(Float32Array.of(Math.fround(1 - this.accBeta1)), []);
      feeds[BIAS_CORRECTION2] = tensor(Float32Array.of(Math.fround(1 - this.accBeta2)), []);
    }
    for (const s of step.state) feeds[s.input] = tensor(this.state.get(s.input)!, s.dims);
    return feeds;
  }

  /** Runs a step; a finite loss moves the state on (a non-finite one leaves it as it was, for the loop to stop on). */
  private async run(step: StepSession, feeds: Record<string, ort.Tensor>): Promise<{ loss: number; result: ort.InferenceSession.ReturnType }> {
    const result = await step.session.run(feeds);
    const loss = (result[LOSS]!.data as Float32Array)[0]!;
    if (Number.isFinite(loss)) {
      for (const s of step.state) if (s.next) this.state.set(s.input, result[s.next]!.data as Float32Array);
      this.iterations++;
      this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(ADAM_DEFAULTS.beta1));
      this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(ADAM_DEFAULTS.beta2));
    }
    return { loss, result };
  }

  async step(batch: TrainingBatch, lr: number): Promise<{ loss: number; correct: number }> {
    const views = mergeViews(batch.views);
    const n = views.views;
    if (n !== batch.labels.length) throw new Error(`internal: ${n} views for ${batch.labels.length} labels`);
    const step = await this.stepSession(n);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, value] of Object.entries(namedFeeds(step.inputs, views, this.setup.flows ?? []))) feeds[name] = host(value);
    const onehot = new Float32Array(n * step.classes);
    batch.labels.forEach((label, i) => (onehot[i * step.classes + label] = 1));
    feeds[LABELS] = tensor(onehot, [n, step.classes]);
    Object.assign(feeds, this.masks(step.masks, n, batch.dropoutSeed), this.stateFeeds(step, lr));
    const { loss, result } = await this.run(step, feeds);
    const scores = result[SCORES]!.data as Float32Array;
    let correct = 0;
    batch.labels.forEach((label, i) => {
      const row = scores.subarray(i * step.classes, (i + 1) * step.classes);
      let best = 0;
      for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
      if (best === label) correct++;
    });
    return { loss, correct };
  }

  /** Runs the evaluation graph on `feeds` (the model's inputs) with the current state: the outputs asked for. */
  private async runEvaluation(feeds: Record<string, ort.Tensor>, outputs: readonly string[]): Promise<ort.InferenceSession.ReturnType> {
    this.evaluation ??= ort.InferenceSession.create(this.evaluationGraph.bytes!, { executionProviders: [this.provider], logSeverityLevel: 3 });
    const session = await this.evaluation;
    for (const s of this.evaluationGraph.state) feeds[s.input] = tensor(this.state.get(s.input)!, s.dims);
    return session.run(feeds, [...outputs]);
  }

  private async evaluate(parts: readonly LoadedViews[]): Promise<{ values: Float32Array; classes: number }> {
    const views = mergeViews(parts);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, value] of Object.entries(namedFeeds(this.evaluationGraph.inputs, views, this.setup.flows ?? []))) feeds[name] = host(value);
    const output = (await this.runEvaluation(feeds, [OUTPUT]))[OUTPUT]!;
    return { values: output.data as Float32Array, classes: output.dims[1]! };
  }

  /** A localizer's or a detector's outputs with the current state (the inputs in the graph's order). */
  private async inferTask(inputs: readonly HostTensor[]): Promise<readonly HostTensor[]> {
    const feeds: Record<string, ort.Tensor> = {};
    this.evaluationGraph.inputs.forEach((input, i) => (feeds[input.name] = host(inputs[i]!)));
    const result = await this.runEvaluation(feeds, this.evaluationGraph.outputs);
    return this.evaluationGraph.outputs.map((name) => ({ data: result[name]!.data as Float32Array, shape: [...result[name]!.dims] }));
  }

  async minimizeTask(batch: TaskBatch, lr: number, dropoutSeed: number): Promise<number> {
    const { examples: n, boxes } = taskBatchRows(this.setup.graph, batch);
    const step = await this.stepSession(n, boxes);
    const feeds = taskFeeds(step, this.setup.graph.task as TargetedTask, batch);
    Object.assign(feeds, this.masks(step.masks, n, dropoutSeed, boxes), this.stateFeeds(step, lr));
    return (await this.run(step, feeds)).loss;
  }

  async checkpoint(progress: Progress): Promise<CheckpointContents> {
    const byTfjs = new Map(this.tensors.filter((t) => t.decl).map((t) => [storedWeightName(t.decl!), t]));
    const vnetLayout = (t: StateTensor, data: Float32Array) => (t.layout ? t.layout.fromOnnx(data, t.dims).data : data);
    const weights = this.layout.weights.map((w): NamedTensor => {
      const t = byTfjs.get(w.name);
      if (!t) throw new Error(`internal: the training step has no state for ${w.name}`);
      return { name: w.name, shape: w.shape, values: vnetLayout(t, this.state.get(t.input)!) };
    });
    // tfjs's order: `iter`, then the slots in the model's trainable-weight order (Adam: every m, then every v).
    const trained = this.layout.weights.map((w) => byTfjs.get(w.name)!).filter((t) => t.kind === "weight");
    const slotKinds = this.setup.config.optimizer === "adam" ? (["m", "v"] as const) : (["momentum"] as const);
    const slots = slotKinds.flatMap((kind) =>
      trained.map((w): NamedTensor => {
        const slot = this.tensors.find((t) => t.kind === "slot" && t.of === w.input && t.slot === kind)!;
        return { name: `${storedWeightName(w.decl!)}/${kind}`, shape: w.decl!.shape, values: vnetLayout(w, this.state.get(slot.input)!) };
      }),
    );
    const optimizer = this.iterations > 0 ? [{ name: "iter", shape: [], values: Float32Array.of(this.iterations) }, ...slots] : [];
    const optimizerScalars: Record<string, number> = this.setup.config.optimizer === "adam" ? { accBeta1: this.accBeta1, accBeta2: this.accBeta2 } : {};
    return { model: this.layout.model, weights, optimizer, optimizerScalars, progress: { ...progress, engine: this.name } };
  }

  async model(): Promise<tf.LayersModel> {
    const { weights } = await this.checkpoint({ epoch: 0, seed: this.setup.seed, network: this.setup.graph.name, optimizer: this.setup.config.optimizer });
    const model = graphModel(this.setup.graph, weights, "the trained weights");
    model.setUserDefinedMetadata(this.setup.metadata as object);
    return model;
  }

  async dispose(): Promise<void> {
    for (const session of this.steps.values()) await (await session).session.release();
    if (this.evaluation) await (await this.evaluation).release();
    this.steps.clear();
    this.evaluation = undefined;
  }
}
