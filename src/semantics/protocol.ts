/**
 * A network's test-time protocol, resolved from its `sampling` section with the documented
 * defaults: how many clips of how many frames at what stride or frame rate, which spatial crops,
 * and how the views' predictions are averaged. Exporters write it into model metadata and
 * predictors read it back, so a deployment samples and averages as the spec says.
 */
import type { CheckedNetwork } from "./network.js";

export type CropMode = "center" | "three" | "ten";
export type ViewAverage = "logits" | "softmax" | "max";

export interface TestProtocol {
  /** Frames per clip: the raw clip input's length (1 for image networks). */
  readonly frames: number;
  /** Input height and width: the crop size. */
  readonly size: readonly [number, number];
  /** Frame stride at test time (test's, else training's, else 1) unless `fps` is given. */
  readonly stride?: number;
  /** Frame rate at test time (test's, else training's). */
  readonly fps?: number;
  readonly clips: number;
  readonly crops: CropMode;
  readonly average: ViewAverage;
  /** Short side before cropping, when the spec says. */
  readonly resize?: number;
}

type Section = { readonly [key: string]: unknown } | undefined;

/** Spatial views per clip for a crop mode. */
export function cropCount(crops: CropMode): number {
  return crops === "ten" ? 10 : crops === "three" ? 3 : 1;
}

/** The test protocol of a network (defaults where its spec says nothing). */
export function testProtocol(network: CheckedNetwork): TestProtocol {
  const sampling = network.sections.sampling as Section;
  const train = sampling?.train as Section;
  const test = sampling?.test as Section;
  const raw = network.inputs.find((i) => i.kind === "input")!.shape;
  const clip = raw.length === 4;
  const fps = (test?.fps ?? train?.fps) as number | undefined;
  const stride = (test?.stride ?? train?.stride) as number | undefined;
  const resize = test?.resize as number | undefined;
  return {
    frames: clip ? raw[0]! : 1,
    size: [raw[clip ? 1 : 0]!, raw[clip ? 2 : 1]!],
    ...(fps !== undefined ? { fps } : { stride: stride ?? 1 }),
    clips: (test?.clips as number | undefined) ?? 1,
    crops: (test?.crops as CropMode | undefined) ?? "center",
    average: (test?.average as ViewAverage | undefined) ?? "softmax",
    ...(resize !== undefined ? { resize } : {}),
  };
}
