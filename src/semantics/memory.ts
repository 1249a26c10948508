/**
 * Activation memory of a checked network, the one computation behind `vnet summary` and the LSP
 * hover. Every tensor is float32 (4 bytes), as both backends run it.
 * - Forward, per clip: the sum of every model layer's output (stream layers run in the data
 *   pipeline and are left out; a `per_frame` body counts once per frame, the `per_frame` layer
 *   itself is the body's output re-shaped). This is what a training forward pass keeps for its
 *   backward pass. Inference needs less: `peak` is the most that is alive at once when each
 *   output is freed after its last reader (in layer order, a `per_frame` body's frames at once, as
 *   the compiled model folds them into the batch). A composite operator (`nonlocal`,
 *   `conv2plus1d`, `lateral`) counts its output only, not its internal temporaries.
 * - Training, for a batch of B clips: B x the forward activations x 2 (each kept output and its
 *   gradient; torchsummary's "forward/backward pass size" convention), plus the weights, their
 *   gradients and the optimizer's slots (SGD with momentum: one per weight; Adam: two; plain SGD:
 *   none), frozen weights and batch-norm statistics once. B and the optimizer come from the
 *   spec's `training` section unless given.
 */
import { product } from "../ops/values.js";
import { totals, type CheckedNetwork, type Layer } from "./network.js";

/** Bytes of one tensor element. */
export const BYTES_PER_ELEMENT = 4;

export interface TrainingMemory {
  readonly batch: number;
  readonly optimizer: string;
  /** Slots the optimizer keeps per trainable weight. */
  readonly optimizerSlots: number;
  /** batch x forward x 2 (outputs kept for the backward pass and their gradients). */
  readonly activations: number;
  /** Weights, their gradients, optimizer slots; frozen weights and statistics once. */
  readonly parameters: number;
  readonly total: number;
}

export interface ActivationMemory {
  /** Bytes of all layer outputs of one clip. */
  readonly forward: number;
  /** Bytes alive at once at the peak of an inference pass over one clip. */
  readonly peak: number;
  readonly training: TrainingMemory;
}

/** Bytes of one layer's output per clip (a per_frame body layer: for every frame). */
export function layerActivationBytes(layer: Layer): number {
  if (layer.op === "per_frame" && layer.body) return 0;
  return product(layer.shape) * BYTES_PER_ELEMENT;
}

/** Frames a per_frame layer applies its body to: its input's time axis. */
function framesOf(layer: Layer, byId: ReadonlyMap<number, Layer>): number {
  return byId.get(layer.inputs[0]!)?.shape[0] ?? 1;
}

/** Sum of the outputs of a layer list (streams and raw inputs left out), bodies once per frame. */
function forwardBytes(layers: readonly Layer[]): number {
  const byId = new Map(layers.map((l) => [l.id, l]));
  let bytes = 0;
  for (const layer of layers) {
    if (layer.stream || layer.op === "input") continue;
    bytes += layerActivationBytes(layer);
    if (layer.op === "per_frame" && layer.body) bytes += framesOf(layer, byId) * forwardBytes(layer.body);
  }
  return bytes;
}

/**
 * The most bytes alive at once when the layers run in order and each output is freed after its
 * last reader; `keep` outputs live to the end. Tensors the list reads from outside (model inputs,
 * a body's frame) count from the start unless `countOutside` is false.
 */
function peakBytes(layers: readonly Layer[], keep: readonly number[], countOutside = true): number {
  const byId = new Map(layers.map((l) => [l.id, l]));
  const order = layers.filter((l) => !l.stream);
  const lastUse = new Map<number, number>();
  order.forEach((layer, i) => layer.inputs.forEach((id) => lastUse.set(id, i)));
  for (const id of keep) lastUse.set(id, Infinity);
  const size = (id: number) => {
    const layer = byId.get(id);
    return layer ? product(layer.shape) * BYTES_PER_ELEMENT : 0;
  };
  // Whatever the list reads but does not compute (stream outputs, the frame input) is there first.
  const outside = new Set(order.flatMap((l) => l.inputs).filter((id) => byId.get(id)?.stream || byId.get(id)?.op === "input"));
  const counted = new Set(countOutside ? outside : []);
  let live = [...counted].reduce((sum, id) => sum + size(id), 0);
  let peak = live;
  order.forEach((layer, i) => {
    if (layer.op === "input") return;
    let during = 0;
    if (layer.op === "per_frame" && layer.body) {
      const frames = framesOf(layer, byId);
      // The body runs on all frames at once (its input is this layer's, already counted); its
      // output becomes this layer's, re-shaped.
      during = frames * peakBytes(layer.body, [layer.args.output as number], false);
    } else {
      live += size(layer.id);
    }
    peak = Math.max(peak, live + during);
    if (layer.op === "per_frame") live += size(layer.id);
    counted.add(layer.id);
    for (const id of new Set(layer.inputs)) if (lastUse.get(id) === i && counted.delete(id)) live -= size(id);
  });
  return peak;
}

/** Optimizer slots per trainable weight. */
function optimizerSlots(optimizer: string, momentum: number): number {
  if (optimizer === "adam") return 2;
  return momentum > 0 ? 1 : 0;
}

/** Activation memory of a network per clip, and the training estimate for a batch. */
export function activationMemory(network: CheckedNetwork, options: { batch?: number; optimizer?: string } = {}): ActivationMemory {
  const forward = forwardBytes(network.layers);
  const peak = peakBytes(network.layers, network.outputs);
  const training = network.sections.training ?? {};
  const batch = options.batch ?? (training.batch as number | undefined) ?? 8;
  const optimizer = options.optimizer ?? (training.optimizer as string | undefined) ?? "sgd";
  const slots = optimizerSlots(optimizer, (training.momentum as number | undefined) ?? 0.9);
  const t = totals(network);
  const parameters = (t.trainable * (2 + slots) + t.frozen + t.state) * BYTES_PER_ELEMENT;
  const activations = batch * forward * 2;
  return { forward, peak, training: { batch, optimizer, optimizerSlots: slots, activations, parameters, total: activations + parameters } };
}

/** Bytes in binary units: `512 B`, `3.4 KiB`, `45.2 MiB`, `1.91 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) ((value /= 1024), unit++);
  if (unit === 0) return `${value} B`;
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}

/** What the optimizer keeps, in words (`sgd momentum`, `adam moments`). */
export function optimizerStateName(memory: TrainingMemory): string {
  if (memory.optimizerSlots === 0) return "";
  return memory.optimizer === "adam" ? " and adam's two moments" : ` and ${memory.optimizer} momentum`;
}
