/** Values the checker computes while it elaborates a spec. Evaluation is pure and always terminates. */
import type { ArgValue, Shape } from "../ops/values.js";
import type { Origin } from "./network.js";

export type Value =
  | { readonly t: "num"; readonly v: number }
  | { readonly t: "bool"; readonly v: boolean }
  | { readonly t: "str"; readonly v: string }
  | { readonly t: "list"; readonly items: readonly Value[] }
  | { readonly t: "tensor"; readonly id: number; readonly shape: Shape; readonly origin: Origin; readonly stream: boolean }
  /** The result of `clip(...)`, `image(...)` or `sequence(...)`: an input description. */
  | { readonly t: "input"; readonly kind: InputKind; readonly shape: Shape }
  /** Poison: an error was already reported; everything computed from it stays silent. */
  | { readonly t: "err" };

/** What a network input holds: a video clip, an image, or a feature sequence. */
export type InputKind = "clip" | "image" | "sequence";

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

export function show(value: Value): string {
  switch (value.t) {
    case "num":
      return String(value.v);
    case "bool":
      return String(value.v);
    case "str":
      return JSON.stringify(value.v);
    case "list":
      return `[${value.items.map(show).join(", ")}]`;
    case "tensor":
      return `tensor [N, ${value.shape.join(", ")}]`;
    case "input":
      return `${value.kind} [N, ${value.shape.join(", ")}]`;
    case "err":
      return "<error>";
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

export function containsError(value: Value): boolean {
  return value.t === "err" || (value.t === "list" && value.items.some(containsError));
}
