/**
 * The tfjs training engine: the compiled tfjs LayersModel trained with tfjs's autodiff in a custom
 * step (`optimizer.minimize` over the tfjs objective), on whichever tfjs backend is active
 * (src/runtime/backend.ts). Its objective is the task's loss through the tfjs tensor algebra:
 * softmax cross-entropy of the output, of each tower for a separately trained score fusion (their
 * sum: the streams share no weights, so each gets exactly its own gradient), plus the L2 term of
 * every kernel. SGD is tfjs's momentum optimizer, Adam tfjs's Adam; the optimizer state is
 * checkpointed and restored exactly (Adam's accumulated beta powers included).
 */
import * as tf from "@tensorflow/tfjs";
import { emitTfjs } from "../../backends/tfjs/emit.js";
import type { IrGraph } from "../../ir/graph.js";
import { lossHeads } from "../../ir/scores.js";
import { softmaxCrossEntropy } from "../../semantics/tasks/classification.js";
import { taskLoss, type TargetedTask } from "../../semantics/tasks/index.js";
import { modelWithWeights } from "../../weights/model.js";
import { WeightStore } from "../../weights/store.js";
import type { CheckpointContents, NamedTensor, Progress } from "../checkpoint.js";
import { graphFeeds } from "../streams.js";
import { TFJS_ALGEBRA } from "../tensor-algebra.js";
import type { HostTensor } from "../onnx.js";
import type { EngineConfig, EngineSetup, ModelSetup, TaskBatch, TaskEngine, TaskInference, TrainingBatch, TrainingEngine, ViewScorer } from "./engine.js";

/** Optimizer variables that `getWeights` leaves out (Adam's accumulated beta powers). */
const HIDDEN_SCALARS = ["accBeta1", "accBeta2"] as const;

function hiddenScalars(optimizer: tf.Optimizer): Record<string, tf.Variable> {
  const fields = optimizer as unknown as Record<string, unknown>;
  return Object.fromEntries(HIDDEN_SCALARS.filter((k) => fields[k] instanceof tf.Variable).map((k) => [k, fields[k] as tf.Variable]));
}

function makeOptimizer(config: EngineConfig): tf.Optimizer {
  // The rate is set before every step (the schedule's); 1 is a placeholder.
  return config.optimizer === "adam" ? tf.train.adam(1) : tf.train.momentum(1, config.momentum, config.nesterov);
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  // SGD and momentum keep the rate as a tensor (setLearningRate); Adam reads its `learningRate` field on every step.
  const withSetter = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof withSetter.setLearningRate === "function") withSetter.setLearningRate(lr);
  else withSetter.learningRate = lr;
}

/**
 * What training backpropagates through: a model sharing the trained model's layers whose outputs
 * are the tensors the loss is taken over (`lossHeads`: the output, or each stream's scores for a
 * score fusion trained separately; `heads` indexes them), each made logits by `logits`, and the
 * network's output (`fused`, for the accuracy).
 * Logits are the IR's: a logits output itself, the input of a final softmax, or the logarithm of
 * other probabilities (log-probabilities, whose softmax gives them back).
 */
function trainingModel(
  model: tf.LayersModel,
  graph: IrGraph,
): { model: tf.LayersModel; heads: number[]; logits: ((output: tf.Tensor) => tf.Tensor)[]; fused: number } {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  // Each tensor once (tfjs gives no value for a repeated output): the heads, then the output.
  const outputs: tf.SymbolicTensor[] = [];
  const indexOf = (tensor: tf.SymbolicTensor) => {
    const known = outputs.indexOf(tensor);
    return known >= 0 ? known : outputs.push(tensor) - 1;
  };
  const heads: number[] = [];
  const logits: ((output: tf.Tensor) => tf.Tensor)[] = [];
  for (const head of lossHeads(graph)) {
    const { kind, softmaxInput } = head.scores;
    const node = kind === "probabilities" && softmaxInput !== undefined ? softmaxInput : head.node;
    heads.push(indexOf(model.getLayer(byId.get(node)!.name).output as tf.SymbolicTensor));
    logits.push(kind === "logits" || softmaxInput !== undefined ? (t) => t : (t) => tf.log(tf.add(t, 1e-8)));
  }
  const fused = indexOf(model.outputs[0]!);
  return { model: tf.model({ inputs: model.inputs, outputs }), heads, logits, fused };
}

/**
 * Adds the L2 term wd / 2 * sum(w^2) of every kernel to a loss: decay on kernels only, as the
 * usual recipes exclude biases and batch-norm parameters.
 */
export function weightDecayTerm(model: tf.LayersModel, weightDecay: number): (loss: tf.Scalar) => tf.Scalar {
  const decayed = model.trainableWeights.filter((w) => /kernel/.test(w.name)).map((w) => w.read());
  if (weightDecay <= 0 || decayed.length === 0) return (loss) => loss;
  return (loss) => tf.add(loss, tf.mul(weightDecay / 2, tf.addN(decayed.map((w) => tf.sum(tf.square(w)))))) as tf.Scalar;
}

/** What the tfjs engine minimises on a batch, and the fused scores accuracy is read from. */
export type TfjsObjective = (inputs: readonly tf.Tensor[], labels: tf.Tensor1D) => { loss: tf.Scalar; fused: tf.Tensor };

/**
 * The tfjs engine's training objective for a model of a lowered graph: softmax cross-entropy of
 * the output's logits as the IR says (of each tower's for a separately trained score fusion,
 * summed), with label smoothing, plus the L2 term wd / 2 * sum(w^2) of every kernel. Runs the
 * model in training mode (batch statistics, dropout), so batch-norm moving statistics are updated
 * by each call.
 */
export function tfjsObjective(model: tf.LayersModel, graph: IrGraph, config: Pick<EngineConfig, "labelSmoothing" | "weightDecay">): TfjsObjective {
  const trained = trainingModel(model, graph);
  const decay = weightDecayTerm(model, config.weightDecay);
  return (inputs, labels) => {
    const applied = trained.model.apply(inputs.length === 1 ? inputs[0]! : [...inputs], { training: true }) as tf.Tensor | tf.Tensor[];
    const outputs = Array.isArray(applied) ? applied : [applied];
    const fused = outputs[trained.fused]!;
    const onehot = tf.oneHot(labels, fused.shape[1]!);
    // One loss per head: the output's, or each stream's for a separately trained score fusion.
    const losses = trained.logits.map((logits, k) => softmaxCrossEntropy(TFJS_ALGEBRA, logits(outputs[trained.heads[k]!]!), onehot, config.labelSmoothing));
    const loss = decay((losses.length === 1 ? losses[0]! : tf.addN(losses)) as tf.Scalar);
    return { loss, fused };
  };
}

/** The model, its topology and weights as a checkpoint's contents (no tfjs variable survives it). */
export async function modelContents(model: tf.LayersModel): Promise<Pick<CheckpointContents, "model" | "weights">> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save({
    save: async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    },
  });
  const artifacts = captured!;
  const data = tf.io.CompositeArrayBuffer.join(artifacts.weightData!);
  let offset = 0;
  const weights = (artifacts.weightSpecs ?? []).map((spec): NamedTensor => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(data, offset, size);
    offset += size * 4;
    return { name: spec.name, shape: spec.shape, values };
  });
  return {
    model: {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      userDefinedMetadata: artifacts.userDefinedMetadata,
    },
    weights,
  };
}

/**
 * The graph's tfjs model with named weights (a checkpoint's, or an engine's state): the spec's own
 * model with every weight put in by name, whatever topology a model.json holds.
 */
export function graphModel(graph: IrGraph, weights: readonly NamedTensor[], description: string): tf.LayersModel {
  const built = modelWithWeights(graph, WeightStore.ofTensors(weights, description));
  if (!built.model) throw new Error(`${description} does not fit ${graph.name}: ${built.diagnostics.map((d) => d.message).join("; ")}`);
  return built.model;
}

/**
 * A tfjs model with its optimizer, whatever the model reads: one optimizer step of any objective
 * over its trainable weights, and its state as a checkpoint (restored exactly). Classification's
 * engine (`TfjsEngine`) builds on it, and so does the engine of localizers and detectors
 * (`TfjsTaskEngine`, their loss `taskLoss`).
 */
export class TfjsOptimization {
  readonly name = "tfjs" as const;
  readonly description: string;
  private readonly variables: tf.Variable[];

  protected constructor(
    protected readonly trained: tf.LayersModel,
    private readonly optimizer: tf.Optimizer,
  ) {
    this.variables = trained.trainableWeights.map((w) => w.read() as tf.Variable);
    this.description = `tfjs (${tf.getBackend()} backend)`;
  }

  /** The model (compiled fresh with the seed, then `init`; or a checkpoint's) and its optimizer. */
  protected static async build(setup: ModelSetup): Promise<{ model: tf.LayersModel; optimizer: tf.Optimizer }> {
    const optimizer = makeOptimizer(setup.config);
    let model: tf.LayersModel;
    if (setup.start.kind === "checkpoint") {
      const { contents } = setup.start;
      // The spec's own model with the checkpoint's weights by name, whatever topology its model.json holds.
      model = graphModel(setup.graph, contents.weights, "the checkpoint");
      const weights = contents.optimizer.map((t) => ({ name: t.name, tensor: tf.tensor(t.values, [...t.shape]) }));
      if (weights.length) await optimizer.setWeights(weights);
      const hidden = hiddenScalars(optimizer);
      for (const [key, value] of Object.entries(contents.optimizerScalars)) hidden[key]?.assign(tf.scalar(value));
    } else {
      const compiled = emitTfjs(setup.graph, { seed: setup.seed });
      if (!compiled.model) throw new Error(`${setup.graph.name} does not compile to tfjs: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
      model = compiled.model;
      setup.start.init?.(model);
    }
    model.setUserDefinedMetadata(setup.metadata as object);
    return { model, optimizer };
  }

  /**
   * One optimizer step at learning rate `lr` on `objective` (run in training mode by the caller;
   * its tensors are freed): the loss, and the count of right predictions when it gives one.
   */
  async minimize(objective: () => { loss: tf.Scalar; correct?: tf.Scalar }, lr: number): Promise<{ loss: number; correct?: number }> {
    setLearningRate(this.optimizer, lr);
    let hits: tf.Tensor | undefined;
    const loss = this.optimizer.minimize(
      () => {
        const { loss: total, correct } = objective();
        if (correct) hits = tf.keep(correct);
        return total;
      },
      true,
      this.variables,
    )!;
    const value = (await loss.data())[0]!;
    const correct = hits ? (await hits.data())[0]! : undefined;
    tf.dispose([loss, ...(hits ? [hits] : [])]);
    return correct === undefined ? { loss: value } : { loss: value, correct };
  }

  async checkpoint(progress: Progress): Promise<CheckpointContents> {
    const named = await this.optimizer.getWeights();
    const optimizer = await Promise.all(
      named.map(
        async (w): Promise<NamedTensor> => ({ name: w.name, shape: w.tensor.shape, values: Float32Array.from((await w.tensor.data()) as ArrayLike<number>) }),
      ),
    );
    const optimizerScalars: Record<string, number> = {};
    for (const [key, variable] of Object.entries(hiddenScalars(this.optimizer))) optimizerScalars[key] = (await variable.data())[0]!;
    return { ...(await modelContents(this.trained)), optimizer, optimizerScalars, progress: { ...progress, engine: this.name } };
  }

  async model(): Promise<tf.LayersModel> {
    return this.trained;
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
  }
}

/** The tfjs engine of a classifier: steps on batches of loaded views, scores of views. */
export class TfjsEngine extends TfjsOptimization implements TrainingEngine {
  readonly score: ViewScorer;
  private readonly objective: TfjsObjective;

  private constructor(
    private readonly setup: EngineSetup,
    trained: tf.LayersModel,
    optimizer: tf.Optimizer,
  ) {
    super(trained, optimizer);
    this.objective = tfjsObjective(trained, setup.graph, setup.config);
    this.score = async (views) => {
      const output = tf.tidy(() => {
        const inputs = graphFeeds(setup.graph, views, setup.flows);
        return trained.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
      });
      const values = (await output.data()) as Float32Array;
      const classes = output.shape[1]!;
      output.dispose();
      return { values, classes };
    };
  }

  /** The engine of a network on the active tfjs backend. */
  static async create(setup: EngineSetup): Promise<TfjsEngine> {
    const { model, optimizer } = await TfjsOptimization.build(setup);
    return new TfjsEngine(setup, model, optimizer);
  }

  async step(batch: TrainingBatch, lr: number): Promise<{ loss: number; correct: number }> {
    const inputs = graphFeeds(this.setup.graph, batch.views, this.setup.flows);
    const labels = tf.tensor1d([...batch.labels], "int32");
    const { loss, correct } = await this.minimize(() => {
      const { loss: total, fused } = this.objective(inputs, labels);
      return { loss: total, correct: tf.sum(tf.cast(tf.equal(tf.argMax(fused, 1), labels), "float32")) as tf.Scalar };
    }, lr);
    tf.dispose([labels, ...inputs]);
    return { loss, correct: correct ?? 0 };
  }
}

/** The task's loss (`taskLoss`, without the L2 term) of a localizer's or a detector's tfjs model on a batch, in training or inference mode. */
export function tfjsTaskLoss(graph: IrGraph, model: tf.LayersModel, batch: TaskBatch, training: boolean): tf.Scalar {
  return tf.tidy(() => {
    const inputs = batch.inputs.map((t) => tf.tensor(t.data, [...t.shape]));
    const targets = Object.fromEntries(Object.entries(batch.targets).map(([key, t]) => [key, tf.tensor(t.data, [...t.shape])]));
    const applied = model.apply(inputs.length === 1 ? inputs[0]! : inputs, { training }) as tf.Tensor | tf.Tensor[];
    return taskLoss(TFJS_ALGEBRA, graph.task as TargetedTask, Array.isArray(applied) ? applied : [applied], targets) as tf.Scalar;
  });
}

/** A tfjs model's inference (`training: false`) as a TaskInference: its outputs read back to host memory. */
export function tfjsInference(model: tf.LayersModel): TaskInference {
  return async (inputs) => {
    const outputs = tf.tidy(() => {
      const fed = inputs.map((t) => tf.tensor(t.data, [...t.shape]));
      const applied = model.apply(fed.length === 1 ? fed[0]! : fed, { training: false }) as tf.Tensor | tf.Tensor[];
      return Array.isArray(applied) ? applied : [applied];
    });
    try {
      return await Promise.all(outputs.map(async (o) => ({ data: (await o.data()) as Float32Array, shape: o.shape })));
    } finally {
      tf.dispose(outputs);
    }
  };
}

/**
 * The task's loss (`taskLoss`, without the L2 term) of outputs in inference mode (as a
 * TaskInference gives them) against a batch's targets: the validation loss, evaluated by the same
 * formula on tfjs tensors whichever runtime computed the outputs.
 */
export function taskLossOf(graph: IrGraph, outputs: readonly HostTensor[], targets: TaskBatch["targets"]): number {
  const value = tf.tidy(() => {
    const held = outputs.map((t) => tf.tensor(t.data, [...t.shape]));
    const labels = Object.fromEntries(Object.entries(targets).map(([key, t]) => [key, tf.tensor(t.data, [...t.shape])]));
    return taskLoss(TFJS_ALGEBRA, graph.task as TargetedTask, held, labels) as tf.Scalar;
  });
  const loss = value.dataSync()[0]!;
  value.dispose();
  return loss;
}

/**
 * The tfjs engine of a localizer or a detector: each step minimises `taskLoss` (BMN's loss, or
 * the per-box binary cross-entropy) of the model's outputs in training mode, plus the L2 term.
 */
export class TfjsTaskEngine extends TfjsOptimization implements TaskEngine {
  private constructor(
    private readonly setup: ModelSetup,
    trained: tf.LayersModel,
    optimizer: tf.Optimizer,
  ) {
    super(trained, optimizer);
  }

  /** The engine of a localizer or a detector on the active tfjs backend. */
  static async create(setup: ModelSetup): Promise<TfjsTaskEngine> {
    const { model, optimizer } = await TfjsOptimization.build(setup);
    return new TfjsTaskEngine(setup, model, optimizer);
  }

  async minimizeTask(batch: TaskBatch, lr: number): Promise<number> {
    const decay = weightDecayTerm(this.trained, this.setup.config.weightDecay);
    return (await this.minimize(() => ({ loss: decay(tfjsTaskLoss(this.setup.graph, this.trained, batch, true)) }), lr)).loss;
  }

  readonly infer: TaskInference = (inputs) => tfjsInference(this.trained)(inputs);
}
