/**
 * Training curves (`vnet plot`, `vnet train --plot`, the report): loss, accuracy and learning
 * rate per epoch from each run's metrics.jsonl, several runs on one chart, described as a
 * Vega-Lite spec, compiled to Vega and rendered headless to SVG by Vega's own renderer (PNG
 * through resvg; HTML is the SVG in a page).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { EpochMetrics } from "../runtime/train.js";
import { svgToPng } from "./svg.js";

export interface RunCurves {
  /** How the run is named in the legend (its directory). */
  readonly name: string;
  readonly epochs: readonly EpochMetrics[];
  /** Lines of metrics.jsonl that could not be read (a run killed mid-write leaves a torn last line). */
  readonly skipped: number;
}

export type PlotFormat = "svg" | "png" | "html";

/** The metrics of a run directory (its metrics.jsonl); throws when there is none. */
export function readRunCurves(runDir: string, name = runDir): RunCurves {
  const file = path.join(runDir, "metrics.jsonl");
  const text = fs.readFileSync(file, "utf8");
  const epochs: EpochMetrics[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const row = JSON.parse(line) as EpochMetrics;
      if (typeof row.epoch === "number") epochs.push(row);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { name, epochs, skipped };
}

/** The Vega-Lite spec of the curves: loss, accuracy, learning rate side by side; colour = run, dash = split. */
export function curvesSpec(runs: readonly RunCurves[]): TopLevelSpec {
  const rows = runs
    .flatMap((run) =>
      run.epochs.flatMap((e) => [
        { run: run.name, epoch: e.epoch, panel: "loss", split: "train", value: e.trainLoss },
        { run: run.name, epoch: e.epoch, panel: "loss", split: "validation", value: e.valLoss },
        { run: run.name, epoch: e.epoch, panel: "accuracy", split: "train", value: e.trainAccuracy },
        { run: run.name, epoch: e.epoch, panel: "accuracy", split: "validation", value: e.valAccuracy },
        { run: run.name, epoch: e.epoch, panel: "learning rate", split: "train", value: e.lr },
      ]),
    )
    .filter((r) => Number.isFinite(r.value));
  const panel = (name: string, title: string, scale: Record<string, unknown> = {}) => ({
    title,
    transform: [{ filter: { field: "panel", equal: name } }],
    mark: { type: "line" as const, point: true, strokeWidth: 2 },
    width: 260,
    height: 200,
    encoding: {
      x: { field: "epoch", type: "quantitative" as const, title: "epoch", axis: { tickMinStep: 1 } },
      y: { field: "value", type: "quantitative" as const, title, scale },
      color: { field: "run", type: "nominal" as const, title: "run" },
      // The dash legend's symbols are lines, which need a stroke colour of their own.
      strokeDash: {
        field: "split",
        type: "nominal" as const,
        title: "split",
        scale: {
          domain: ["train", "validation"],
          range: [
            [1, 0],
            [5, 3],
          ],
        },
        legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolSize: 300, encode: { symbols: { update: { stroke: { value: "#444" } } } } },
      },
    },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    data: { values: rows },
    background: "white",
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
    hconcat: [panel("loss", "loss"), panel("accuracy", "accuracy", { domain: [0, 1] }), panel("learning rate", "learning rate")],
  } as TopLevelSpec;
}

/** The curves as an SVG document. */
export async function curvesSvg(runs: readonly RunCurves[]): Promise<string> {
  const view = new vega.View(vega.parse(compile(curvesSpec(runs)).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The curves in a format: SVG, PNG (twice the SVG's size), or a page holding the SVG. */
export async function drawCurves(runs: readonly RunCurves[], format: PlotFormat): Promise<Buffer> {
  const svg = await curvesSvg(runs);
  if (format === "svg") return Buffer.from(svg);
  if (format === "png") return svgToPng(svg, { scale: 2 });
  const names = runs.map((r) => r.name).join(", ");
  return Buffer.from(
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>training curves: ${escapeHtml(names)}</title></head>\n<body style="font-family: sans-serif; margin: 16px"><h1 style="font-size: 16px">training curves: ${escapeHtml(names)}</h1>\n${svg}\n</body></html>\n`,
  );
}

/** Text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
