/**
 * The optimizer update inside the training step, with the arithmetic of vnet's tfjs engine
 * (tfjs's MomentumOptimizer and AdamOptimizer, in the same order of operations, so that both
 * engines take the same steps):
 * - weight decay as tfjs's engine applies it: an L2 term wd / 2 * sum(w^2) of every kernel in the
 *   loss, i.e. wd * w added to the kernel's gradient (coupled: it goes through momentum or Adam's
 *   moments); with `decoupled` (AdamW) the kernel shrinks by lr * wd * w instead;
 * - SGD with momentum m: v' = m v + g, w' = -lr v' + w (Nesterov: w' = -lr (g + m v') + w);
 * - Adam: m' = b1 m + (1 - b1) g, v' = b2 v + (1 - b2) g^2,
 *   w' = -lr (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps) + w, with the bias corrections
 *   1 - b^t inputs of the step (the runtime keeps b^t as tfjs does, in float32).
 * The learning rate is an input, so schedules and warm-up stay in the runtime.
 */
import type { Tape } from "../autodiff/tape.js";
import type { BoundWeight } from "./forward.js";

export type OptimizerSpec =
  | { readonly kind: "sgd"; readonly momentum: number; readonly nesterov: boolean }
  | { readonly kind: "adam"; readonly beta1: number; readonly beta2: number; readonly epsilon: number; readonly decoupled: boolean };

/** tfjs's defaults: tf.train.adam(lr) and its backend epsilon for float32. */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

/** One tensor of optimizer state per trainable weight (momentum, or Adam's moments). */
export interface OptimizerSlot {
  /** The state's graph input (`<weight>/momentum`, `<weight>/m`, `<weight>/v`). */
  readonly input: string;
  /** The graph output holding its next value. */
  readonly next: string;
  /** The weight's graph input. */
  readonly of: string;
  readonly slot: "momentum" | "m" | "v";
}

/** Scalar inputs of the step besides the batch. */
export const LEARNING_RATE = "lr";
export const BIAS_CORRECTION1 = "adam/bias_correction1";
export const BIAS_CORRECTION2 = "adam/bias_correction2";

/** Whether weight decay applies to a weight (kernels, as the tfjs engine's L2 term). */
export function isDecayed(weight: BoundWeight): boolean {
  return weight.decl.role === "kernel" || weight.decl.role === "recurrent_kernel";
}

export interface UpdateResult {
  /** The next value of each trainable weight, by its input. */
  readonly next: ReadonlyMap<string, string>;
  readonly slots: readonly OptimizerSlot[];
}

/**
 * Adds the update of every trainable weight to the graph. `grads` holds each weight's gradient of
 * the loss without the decay term.
 */
export function emitUpdate(
  tape: Tape,
  weights: readonly BoundWeight[],
  grads: ReadonlyMap<string, string>,
  spec: OptimizerSpec,
  weightDecay: number,
): UpdateResult {
  const graph = tape.graph;
  const lr = graph.input(LEARNING_RATE, []);
  const negativeLr = graph.op("Neg", [lr], "optimizer/negative_lr");
  const corrections = spec.kind === "adam" ? [graph.input(BIAS_CORRECTION1, []), graph.input(BIAS_CORRECTION2, [])] : [];
  const next = new Map<string, string>();
  const slots: OptimizerSlot[] = [];
  const op = (type: string, inputs: string[], base: string) => graph.op(type, inputs, base);
  /** A slot's input, and a function that records the tensor holding its next value. */
  const slot = (weight: BoundWeight, kind: OptimizerSlot["slot"]) => {
    const input = graph.input(`${weight.input}/${kind}`, weight.dims);
    const base = `${input}/next`;
    return { input, base, done: (nextValue: string) => slots.push({ input, next: nextValue, of: weight.input, slot: kind }) };
  };
  for (const weight of weights.filter((w) => w.decl.trainable)) {
    const w = weight.input;
    const base = `optimizer/${w}`;
    let g = grads.get(w)!;
    const decay = weightDecay > 0 && isDecayed(weight);
    if (decay && !(spec.kind === "adam" && spec.decoupled))
      g = op("Add", [g, op("Mul", [w, tape.scalar(weightDecay)], `${base}/decay`)], `${base}/decayed_grad`);
    let delta: string;
    if (spec.kind === "sgd") {
      const velocity = slot(weight, "momentum");
      const v = graph.op("Add", [op("Mul", [tape.scalar(spec.momentum), velocity.input], `${base}/momentum_kept`), g], velocity.base);
      velocity.done(v);
      delta = spec.nesterov ? op("Add", [g, op("Mul", [v, tape.scalar(spec.momentum)], `${base}/lookahead`)], `${base}/nesterov`) : v;
    } else {
      const first = slot(weight, "m");
      const second = slot(weight, "v");
      const m = graph.op(
        "Add",
        [op("Mul", [first.input, tape.scalar(spec.beta1)], `${base}/m_kept`), op("Mul", [g, tape.scalar(1 - spec.beta1)], `${base}/m_new`)],
        first.base,
      );
      first.done(m);
      const v = graph.op(
        "Add",
        [
          op("Mul", [second.input, tape.scalar(spec.beta2)], `${base}/v_kept`),
          op("Mul", [op("Mul", [g, g], `${base}/g2`), tape.scalar(1 - spec.beta2)], `${base}/v_new`),
        ],
        second.base,
      );
      second.done(v);
      const mHat = op("Div", [m, corrections[0]!], `${base}/m_hat`);
      const vHat = op("Div", [v, corrections[1]!], `${base}/v_hat`);
      delta = op("Div", [mHat, op("Add", [op("Sqrt", [vHat], `${base}/v_root`), tape.scalar(spec.epsilon)], `${base}/denominator`)], `${base}/adam_step`);
    }
    let updated = op("Add", [op("Mul", [delta, negativeLr], `${base}/step`), w], `${w}/next`);
    if (decay && spec.kind === "adam" && spec.decoupled) {
      const shrink = op("Mul", [op("Mul", [w, lr], `${base}/w_lr`), tape.scalar(weightDecay)], `${base}/shrink`);
      updated = op("Sub", [updated, shrink], `${w}/next_decayed`);
    }
    next.set(w, updated);
  }
  return { next, slots };
}
