/**
 * VN061 sampling-inconsistent: the `sampling` section contradicts the network's input (frames,
 * crop), its task (a detector's keyframe clips take their timing and training's spatial
 * augmentation from it, nothing else), or itself.
 */
import type * as A from "../../syntax/ast.js";
import type { NetworkSettingsRule } from "../context.js";
import type { SectionValue } from "../network.js";
import { taskOf } from "./task.js";

/**
 * What a detector's keyframe clips read of `sampling` (src/data/sampling.ts, Keyframes): their
 * timing, and in training the spatial augmentation (scale jitter, crop, flip) of PySlowFast's AVA loader.
 */
const KEYFRAME_KEYS: Readonly<Record<string, readonly string[]>> = {
  train: ["frames", "stride", "fps", "scale", "crop", "crop_mode", "flip"],
  test: ["stride", "fps"],
};

/** Why a sampling key does nothing for a detector, as the hint says it. */
function keyframeHint(part: string | undefined, name: string): string {
  if (part === "test" && (name === "resize" || name === "crops"))
    return "a detector's test clip is its whole frame resized to the input's H x W (its compiled input has one size): remove it";
  return "a keyframe's clip is centred on it, clamped at the video's ends, never jittered, looped or segmented: remove it";
}

export const samplingInconsistentRule: NetworkSettingsRule = (context, { decl, module, sections, inputs, local }) => {
  const section = decl.body.find((s): s is A.Section => s.kind === "Section" && s.name.name === "sampling");
  if (section && taskOf(local("task")?.value) === "detection") {
    for (const entry of section.entries) {
      const part = entry.kind === "Section" ? entry.name.name : undefined;
      // Unknown parts are VN019's.
      if (part !== undefined && !(part in KEYFRAME_KEYS)) continue;
      const keys = entry.kind === "Section" ? entry.entries : [entry];
      const scaled = keys.some((k) => k.kind === "Binding" && k.names[0]?.name === "scale");
      for (const key of keys) {
        const name = key.kind === "Binding" ? key.names[0]?.name : key.name.name;
        if (part === "train" && name === "crop_mode" && !scaled) {
          context.report(
            "VN061",
            "error",
            "without `scale` a detector's training frame is resized whole to the input: `crop_mode` has no effect",
            module.file,
            key.range,
            {
              hint: "add `scale = [min, max]` to crop a jittered frame, or remove `crop_mode`",
            },
          );
          continue;
        }
        if (name === undefined || (part !== undefined && (KEYFRAME_KEYS[part] ?? []).includes(name))) continue;
        context.report(
          "VN061",
          "error",
          `a detector's keyframe clips take their timing (\`stride\` or \`fps\`) and training's \`scale\`, \`crop\`, \`crop_mode\` and \`flip\` from \`sampling\`: \`${part ? `${part}.` : ""}${name}\` has no effect`,
          module.file,
          key.range,
          { hint: keyframeHint(part, name) },
        );
      }
    }
  }
  const train = (sections.sampling as Record<string, Record<string, SectionValue>> | undefined)?.train;
  const input = inputs.find((i) => i.kind === "input");
  if (!section || !train || !input) return;
  const file = module.file;
  const trainAst = section.entries.find((e): e is A.Section => e.kind === "Section" && e.name.name === "train");
  const keyRange = (key: string) => trainAst?.entries.find((e) => e.kind === "Binding" && e.names[0]?.name === key)?.range ?? section.name.range;
  const report = (message: string, key: string, hint?: string) => context.report("VN061", "error", message, file, keyRange(key), hint ? { hint } : {});
  if (train.stride !== undefined && train.fps !== undefined) report("give either `stride` or `fps` for training clips, not both", "fps");
  if (input.shape.length === 4 && typeof train.frames === "number" && train.frames !== input.shape[0]) {
    report(
      `training clips have ${train.frames} frames but input \`${input.name}\` has ${input.shape[0]}`,
      "frames",
      `set \`frames = ${input.shape[0]}\` or change the input`,
    );
  }
  const test = (sections.sampling as Record<string, Record<string, SectionValue>> | undefined)?.test;
  const testAst = section.entries.find((e): e is A.Section => e.kind === "Section" && e.name.name === "test");
  const testRange = (key: string) => testAst?.entries.find((e) => e.kind === "Binding" && e.names[0]?.name === key)?.range ?? section.name.range;
  const frames = input.shape.length === 4 ? input.shape[0]! : undefined;
  for (const [values, range] of [
    [train, keyRange],
    [test, testRange],
  ] as const) {
    const segments = values?.segments;
    if (typeof segments !== "number" || frames === undefined) continue;
    if (frames % segments !== 0) {
      context.report("VN061", "error", `${segments} segments do not divide input \`${input.name}\`'s ${frames} frames`, file, range("segments"), {
        hint: "each segment gives frames / segments frames: make the input's frames a multiple of `segments`",
      });
    }
  }
  if (typeof train.segments === "number" && trainAst?.entries.some((e) => e.kind === "Binding" && e.names[0]?.name === "choice")) {
    report("`segments` places the training frames itself; it excludes `choice`", "choice", "remove `choice`");
  }
  if (typeof (test?.segments ?? train.segments) === "number" && typeof test?.clips === "number" && test.clips > 1) {
    context.report("VN061", "error", "with `segments` a test view takes its frames from every segment; it excludes `clips` > 1", file, testRange("clips"), {
      hint: "remove `clips`, or drop `segments` to test several clips",
    });
  }
  const [h, w] = input.shape.length === 4 ? [input.shape[1], input.shape[2]] : [input.shape[0], input.shape[1]];
  if (typeof train.crop === "number" && (train.crop !== h || train.crop !== w)) {
    report(`the training crop is ${train.crop} but input \`${input.name}\` is ${h}x${w}`, "crop", "the input size is the crop size the network sees");
  }
  if (Array.isArray(train.scale)) {
    const [lo, hi] = train.scale as number[];
    if (lo! > hi!) report(`scale range [${lo}, ${hi}] is reversed`, "scale");
    if (typeof train.crop === "number" && lo! < train.crop)
      report(`scale ${lo} is smaller than the crop ${train.crop}`, "scale", "the short side must be at least the crop size");
  }
};
