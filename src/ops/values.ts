/**
 * Shapes and argument values shared by the operator catalogue, the checker and the backends.
 * Shapes are channels-last without the batch axis, which is always symbolic:
 *   vector [F], sequence [T, F], image [H, W, C], clip [T, H, W, C], sequence of maps [T, H, W, C].
 */

export type Shape = readonly number[];

export type ArgValue = number | boolean | string | readonly ArgValue[];

/** An operator's resolved arguments by parameter name. */
export type Args = Readonly<Record<string, ArgValue | undefined>>;

export function formatShape(shape: Shape, rows: "N" | "K" = "N"): string {
  return `[${rows}, ${shape.join(", ")}]`;
}

/** "a clip [N, 8, 32, 32, 3]": the kind of tensor and its shape. */
export function describeTensor(shape: Shape): string {
  const kind = ["a scalar", "a feature vector", "a sequence", "an image", "a clip"][shape.length] ?? `a rank-${shape.length + 1} tensor`;
  return `${kind} ${formatShape(shape)}`;
}

export function rankName(rank: number): string {
  switch (rank) {
    case 1:
      return "a feature vector [N, F]";
    case 2:
      return "a sequence [N, T, F]";
    case 3:
      return "an image [N, H, W, C]";
    case 4:
      return "a clip [N, T, H, W, C]";
    default:
      return `a rank-${rank + 1} tensor`;
  }
}

export function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}
