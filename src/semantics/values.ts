/** Values the checker computes while it elaborates a spec. Evaluation is pure and always terminates. */
import type { ArgValue, Shape } from "../ops/values.js";
import type { Origin } from "./network.js";

export type Value =
  | { readonly t: "num"; readonly v: number }
  | { readonly t: "bool"; readonly v: boolean }
  | { readonly t: "str"; readonly v: string }
  | { readonly t: "list"; readonly items: readonly Value[] }
  | { readonly t: "tensor"; readonly id: number; readonly shape: Shape; readonly origin: Origin; readonly stream: boolean }
  /** The result of `clip(...)`, `image(...)`, `sequence(...)` or `boxes()`: an input description. */
  | { readonly t: "input"; readonly kind: InputKind; readonly shape: Shape }
  /** Poison: an error was already reported; everything computed from it stays silent. */
  | { readonly t: "err" };

/** What a network input holds: a video clip, an image, a feature sequence, or a detector's person boxes. */
export type InputKind = "clip" | "image" | "sequence" | "boxes";

export const ERR: Value = { t: "err" };

export function num(v: number): Value {
  return { t: "num", v };
}

export function typeName(value: Value): string {
  switch (value.t) {
    case "num":
      return Number.isInteger(value.v) ? "an integer" : "a number";
    case "bool":
      return "a boolean";
    case "str":
      return "a string";
    case "list":
      return value.items.length > 0 && value.items.every((i) => i.t === "tensor") ? `a list of ${value.items.length} tensors` : "a list";
    case "tensor":
      return "a tensor";
    case "input":
      return `an input description (${value.kind})`;
    case "err":
      return "an invalid value";
  }
}

/**
 * A value as the spec would write it, for messages: at most `max` characters (then "…"), so a
 * message about a huge list stays one line.
 */
export function show(value: Value, max = 120): string {
  let out = "";
  const write = (v: Value): void => {
    if (out.length > max) return;
    switch (v.t) {
      case "num":
      case "bool":
        out += String(v.v);
        return;
      case "str":
        out += JSON.stringify(v.v.length > max ? v.v.slice(0, max + 1) : v.v);
        return;
      case "list":
        out += "[";
        for (let i = 0; i < v.items.length && out.length <= max; i++) {
          if (i > 0) out += ", ";
          write(v.items[i]!);
        }
        out += "]";
        return;
      case "tensor":
        out += `tensor [N, ${v.shape.join(", ")}]`;
        return;
      case "input":
        out += `${v.kind} [N, ${v.shape.join(", ")}]`;
        return;
      case "err":
        out += "<error>";
        return;
    }
  };
  write(value);
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/**
 * Whether two values are equal (`==`): the same kind and contents; tensors and input
 * descriptions by shape. `spend` is charged one unit per value compared, so comparing lists that
 * share structure exponentially stays within the check's budget.
 */
export function sameValue(a: Value, b: Value, spend: (units: number) => void): boolean {
  spend(1);
  if (a.t !== b.t) return false;
  switch (a.t) {
    case "num":
    case "bool":
    case "str":
      return a.v === (b as typeof a).v;
    case "list": {
      const other = b as typeof a;
      if (a.items.length !== other.items.length) return false;
      return a.items.every((item, i) => sameValue(item, other.items[i]!, spend));
    }
    case "tensor":
    case "input": {
      const other = b as typeof a;
      return (a.t !== "input" || a.kind === (other as typeof a).kind) && a.shape.length === other.shape.length && a.shape.every((d, i) => d === other.shape[i]);
    }
    case "err":
      return true;
  }
}

/** Converts a plain value to an operator argument; tensors and poison have no argument form. */
export function toArg(value: Value): ArgValue | undefined {
  switch (value.t) {
    case "num":
    case "bool":
    case "str":
      return value.v;
    case "list": {
      const items = value.items.map(toArg);
      return items.some((i) => i === undefined) ? undefined : (items as ArgValue[]);
    }
    default:
      return undefined;
  }
}

/** Lists already looked through: values are immutable and lists share items, so each is looked at once. */
const errorFree = new WeakSet<Value>();

export function containsError(value: Value): boolean {
  if (value.t === "err") return true;
  if (value.t !== "list" || errorFree.has(value)) return false;
  if (value.items.some(containsError)) return true;
  errorFree.add(value);
  return false;
}

/** A local's value during elaboration: what it holds, where it was declared, whether anything read it. */
export interface LocalValue {
  readonly value: Value;
  readonly origin: Origin;
  readonly kind: "binding" | "param" | "input" | "stream" | "loop";
  readonly name: string;
  used: boolean;
}

/**
 * Members readable on a tensor or an input description (`x.channels`). Shapes leave out the
 * batch axis; `.rank` counts it, as "a rank-5 tensor" does: 5 for a clip [N, T, H, W, C].
 */
export const TENSOR_MEMBERS: Readonly<Record<string, { readonly doc: string; readonly read: (shape: Shape) => number | undefined }>> = {
  channels: { doc: "Channels (last axis) of the tensor.", read: (s) => s[s.length - 1] },
  frames: { doc: "Frames (time axis) of a clip or sequence.", read: (s) => (s.length === 4 || s.length === 2 ? s[0] : undefined) },
  height: { doc: "Height of an image or clip.", read: (s) => (s.length === 4 ? s[1] : s.length === 3 ? s[0] : undefined) },
  width: { doc: "Width of an image or clip.", read: (s) => (s.length === 4 ? s[2] : s.length === 3 ? s[1] : undefined) },
  rank: { doc: "Number of axes, counting the batch axis: 5 for a clip [N, T, H, W, C], 2 for a feature vector [N, F].", read: (s) => s.length + 1 },
};

/** `.shape`: the shape as a list, without the batch axis (the one member that is a list). */
export const SHAPE_MEMBER_DOC = "The shape as a list, without the batch axis: [T, H, W, C] for a clip.";

/** Parameters of the input descriptions `clip(...)`, `image(...)` and `sequence(...)`, in positional order. */
export const INPUT_FUNCTION_PARAMS: Readonly<Record<InputKind, readonly { readonly name: string; readonly doc: string }[]>> = {
  clip: [
    { name: "frames", doc: "Frames per clip (T)." },
    { name: "size", doc: "Frame size: one int (square) or [height, width]." },
    { name: "channels", doc: "Channels per frame (3 for RGB; default 3)." },
  ],
  image: [
    { name: "size", doc: "Image size: one int (square) or [height, width]." },
    { name: "channels", doc: "Channels (3 for RGB; default 3)." },
  ],
  sequence: [
    { name: "length", doc: "Positions of the sequence (T): a video's snippets, resampled." },
    { name: "features", doc: "Features per position (F)." },
  ],
  // Rows [batch index, x1, y1, x2, y2]: their count K varies per batch, so boxes take no sizes.
  boxes: [],
};
