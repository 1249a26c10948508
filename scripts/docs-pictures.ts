/**
 * `npm run docs:pictures`: regenerates the README's pictures under docs/ with the real commands:
 * trains tiny_early_fusion_gap on builtin:motion (the demo's settings) and a second run at a lower
 * learning rate, then
 *   docs/graph-slowfast_r50.png   vnet graph specs/slowfast_r50.vnet
 *   docs/gradcam.png              vnet gradcam on a validation clip written as an mp4
 *   docs/curves.png               vnet plot of the two runs
 *   docs/report.png               vnet report, screenshot in Debian's Chromium (playwright-core)
 * Run from the repository root; takes a few minutes on two cores. Work files go to dist/docs-work/.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { main } from "../src/cli/main.js";
import { motionDataset } from "../src/data/motion.js";
import { encodeVideo } from "../src/data/video/encode.js";
import { launchChromium } from "./chromium.js";

const docs = "docs";
const work = "dist/docs-work";

/** Runs a vnet command as the CLI would, echoing it and its output; returns the output lines. */
async function vnet(...args: string[]): Promise<string[]> {
  console.log(`$ vnet ${args.join(" ")}`);
  const lines: string[] = [];
  const code = await main(args, { out: (s) => (console.log(s), lines.push(s)), err: (s) => console.error(s), progress: () => {} });
  if (code !== 0) throw new Error(`vnet ${args[0]} exited with ${code}`);
  return lines;
}

async function run(): Promise<void> {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(docs, { recursive: true });
  const spec = "specs/tiny/tiny_early_fusion_gap.vnet";
  const common = [
    "--data",
    "builtin:motion",
    "--optimizer",
    "adam",
    "--batch",
    "16",
    "--epochs",
    "8",
    "--train-clips",
    "150",
    "--val-clips",
    "20",
    "--seed",
    "1",
  ];
  await vnet("train", spec, ...common, "--lr", "0.004", "--plot", "-o", path.join(work, "lr-0.004"));
  await vnet("train", spec, ...common, "--lr", "0.001", "-o", path.join(work, "lr-0.001"));
  await vnet("plot", path.join(work, "lr-0.004"), path.join(work, "lr-0.001"), "-o", path.join(docs, "curves.png"));
  await vnet("graph", "specs/slowfast_r50.vnet", "-o", path.join(docs, "graph-slowfast_r50.png"));

  // Validation clips of class `up` as real video files; the README shows the first one the
  // model classifies right (with the GIF of the same clip).
  const data = motionDataset({ classes: 5, frames: 8, size: 32, trainPerClass: 0, valPerClass: 20, seed: 1 });
  const clipSize = 8 * 32 * 32 * 3;
  const ups = Array.from(data.val.labels)
    .flatMap((label, i) => (label === 2 ? [i] : []))
    .slice(0, 6);
  let explained = false;
  for (const [k, index] of ups.entries()) {
    const video = path.join(work, `up_${k}.mp4`);
    await encodeVideo(video, data.val.clips.subarray(index * clipSize, (index + 1) * clipSize), { width: 32, height: 32, fps: 25 });
    const lines = await vnet("gradcam", spec, "--weights", path.join(work, "lr-0.004"), video, "--true-label", "up", "-o", path.join(work, `gradcam_${k}.png`));
    if (!lines.some((l) => l.includes("(right)"))) continue;
    fs.copyFileSync(path.join(work, `gradcam_${k}.png`), path.join(docs, "gradcam.png"));
    await vnet("gradcam", spec, "--weights", path.join(work, "lr-0.004"), video, "--true-label", "up", "-o", path.join(work, "gradcam.gif"));
    explained = true;
    break;
  }
  if (!explained) throw new Error("the model classifies none of the first validation clips of `up` right; train it longer");

  const report = path.join(work, "report.html");
  await vnet("report", path.join(work, "lr-0.004"), "--spec", spec, "--data", "builtin:motion", "--val-clips", "20", "--seed", "1", "-o", report);
  const profile = path.join(work, "chromium-profile");
  const context = await launchChromium(profile, { viewport: { width: 1280, height: 1600 } });
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(path.resolve(report)).href, { waitUntil: "load" });
    await page.screenshot({ path: path.join(docs, "report.png") });
  } finally {
    await context.close();
  }
  console.log(`wrote ${["graph-slowfast_r50.png", "gradcam.png", "curves.png", "report.png"].map((f) => `docs/${f}`).join(", ")}`);
}

run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
