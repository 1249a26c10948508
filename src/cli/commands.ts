/**
 * The command table: every `vnet` command, in the order `vnet help` lists them, with a one-line
 * summary and its module, loaded only when the command runs (so `vnet check` never loads tfjs or
 * ONNX Runtime). A new command is one file under `commands/` exporting `command` (a `Command` or a
 * `CommandGroup`) plus one line here.
 */
import type { Command, CommandGroup } from "./command.js";

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Command | CommandGroup>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: "check", summary: "check specs; exit 0 clean, 1 errors, 2 usage", load: async () => (await import("./commands/check.js")).command },
  { name: "summary", summary: "per-layer table: shapes, parameters, MACs", load: async () => (await import("./commands/summary.js")).command },
  { name: "fmt", summary: "format specs in place (or list unformatted ones with --check)", load: async () => (await import("./commands/fmt.js")).command },
  {
    name: "compile",
    summary: "build the model with fresh weights: tfjs model.json + weights.bin, or ONNX",
    load: async () => (await import("./commands/compile.js")).command,
  },
  {
    name: "train",
    summary: "train on a dataset; metrics.jsonl + a crash-safe checkpoint per epoch",
    load: async () => (await import("./commands/train.js")).command,
  },
  {
    name: "features",
    summary: "snippet features of untrimmed videos from a trained classifier (for localizers)",
    load: async () => (await import("./commands/features.js")).command,
  },
  {
    name: "localize",
    summary: "segments of untrimmed videos found by a trained localizer (BMN post-processing)",
    load: async () => (await import("./commands/localize.js")).command,
  },
  {
    name: "eval",
    summary: "top-1/top-5, per-class accuracy, confusion matrix with the test protocol",
    load: async () => (await import("./commands/eval.js")).command,
  },
  {
    name: "detect",
    summary: "per-box action scores of a detector at a video's keyframes; overlay video",
    load: async () => (await import("./commands/detect.js")).command,
  },
  { name: "predict", summary: "top classes of one video (ONNX Runtime or tfjs)", load: async () => (await import("./commands/predict.js")).command },
  { name: "export", summary: "export trained weights to ONNX (--verify against tfjs)", load: async () => (await import("./commands/export.js")).command },
  { name: "inflate", summary: "inflate trained 2D weights by the spec's inflate rules", load: async () => (await import("./commands/inflate.js")).command },
  { name: "weights", summary: "weights import: map an ONNX file's weights onto a spec", load: async () => (await import("./commands/weights.js")).command },
  {
    name: "gradcam",
    summary: "temporal Grad-CAM of one video: PNG contact sheet, GIF or MP4",
    load: async () => (await import("./commands/gradcam.js")).command,
  },
  { name: "graph", summary: "draw the network: SVG, PNG or interactive HTML", load: async () => (await import("./commands/graph.js")).command },
  {
    name: "plot",
    summary: "training curves of runs: loss, accuracy, learning rate (PNG, SVG, HTML)",
    load: async () => (await import("./commands/plot.js")).command,
  },
  {
    name: "report",
    summary: "one HTML page about a run: spec, drawing, curves, evaluation, Grad-CAM",
    load: async () => (await import("./commands/report.js")).command,
  },
  {
    name: "data",
    summary: "data synth: write builtin:motion (or --variant boxes: AVA-format detection data) as mp4 videos",
    load: async () => (await import("./commands/data.js")).command,
  },
  { name: "ops", summary: "list the operators and their parameters", load: async () => (await import("./commands/ops.js")).command },
  { name: "codes", summary: "list the diagnostic codes", load: async () => (await import("./commands/codes.js")).command },
  { name: "lsp", summary: "run the language server over stdio (editors)", load: async () => (await import("./commands/lsp.js")).command },
];
