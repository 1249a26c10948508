/**
 * VN061 sampling-inconsistent: the `sampling` section contradicts the network's input (frames,
 * crop), its task (a detector's keyframe clips take only their timing from it), or itself.
 */
import type * as A from "../../syntax/ast.js";
import type { NetworkSettingsRule } from "../context.js";
import type { SectionValue } from "../network.js";
import { taskOf } from "./task.js";

/** What a detector's keyframe clips read of `sampling` (src/data/sampling.ts keyframeFrames): their timing. */
const KEYFRAME_KEYS: Readonly<Record<string, readonly string[]>> = { train: ["frames", "stride", "fps"], test: ["stride", "fps"] };

export const samplingInconsistentRule: NetworkSettingsRule = (context, { decl, module, sections, inputs, local }) => {
  const section = decl.body.find((s): s is A.Section => s.kind === "Section" && s.name.name === "sampling");
  if (section && taskOf(local("task")?.value) === "detection") {
    for (const entry of section.entries) {
      const part = entry.kind === "Section" ? entry.name.name : undefined;
      // Unknown parts are VN019's.
      if (part !== undefined && !(part in KEYFRAME_KEYS)) continue;
      const keys = entry.kind === "Section" ? entry.entries : [entry];
      for (const key of keys) {
        const name = key.kind === "Binding" ? key.names[0]?.name : key.name.name;
        if (name === undefined || (part !== undefined && (KEYFRAME_KEYS[part] ?? []).includes(name))) continue;
        context.report(
          "VN061",
          "error",
          `a detector's keyframe clips take only their timing from \`sampling\` (\`stride\` or \`fps\`): \`${name}\` has no effect`,
          module.file,
          key.range,
          { hint: "a keyframe's clip is centred on it, clamped at the video's ends, its whole frames resized to the input: remove it" },
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
