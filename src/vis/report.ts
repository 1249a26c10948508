/**
 * `vnet report`: one self-contained HTML page about a training run: the spec and its summary
 * table (with activation memory), the network drawing, the training curves, the evaluation with
 * the test protocol (top-1, top-5, per-class accuracy, confusion matrix) and Grad-CAM contact
 * sheets of a few validation videos, right and wrong ones. Every picture is inline (SVG, or PNG
 * as a data URI) and the page runs no script, so it opens anywhere, offline, as one file.
 * Each section is a `<section data-section="...">`, which the browser test checks.
 */
import type { EvaluationReport } from "../runtime/evaluate.js";
import { confusionPng } from "../runtime/confusion-png.js";
import { formatBytes } from "../semantics/memory.js";
import { formatCount, formatMacs, type Summary } from "../semantics/summary.js";
import { formatShape } from "../ops/values.js";
import { escapeHtml } from "./plot.js";
import { pngDataUri } from "./raster.js";

export interface ReportCam {
  /** The video's name (a path, or `builtin:motion/val/3`). */
  readonly video: string;
  readonly trueClass: string;
  readonly predictedClass: string;
  readonly right: boolean;
  /** The contact sheet, PNG bytes. */
  readonly png: Uint8Array;
  /** What it explains, in words. */
  readonly caption: string;
}

export interface ReportParts {
  readonly title: string;
  /** The run directory, the dataset and split, for the header. */
  readonly run: string;
  readonly data: string;
  readonly specFile: string;
  readonly specText: string;
  readonly summary: Summary;
  /** SVG documents. */
  readonly graphSvg: string;
  readonly curvesSvg: string;
  readonly evaluation: EvaluationReport;
  readonly cams: readonly ReportCam[];
}

/** An SVG document without its XML prologue, to inline in HTML. */
function inlineSvg(svg: string): string {
  return svg
    .replace(/^<\?xml[^>]*>\s*/, "")
    .replace(/<!DOCTYPE[^>]*>\s*/i, "")
    .replace(/<!--[\s\S]*?-->\s*/g, "");
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function summaryTable(summary: Summary): string {
  const rows = summary.layers
    .map(
      (l) =>
        `<tr${l.stream ? ' class="stream"' : ""}><td style="padding-left:${4 + 14 * l.depth}px">${escapeHtml(l.name)}${l.frozen && l.params ? " (frozen)" : ""}${l.stream ? " (stream)" : ""}</td><td>${escapeHtml(l.op)}</td><td>${escapeHtml(formatShape(l.shape))}</td><td class="n">${l.params ? formatCount(l.params) : ""}</td><td class="n">${l.macs ? formatMacs(l.macs) : ""}</td></tr>`,
    )
    .join("\n");
  const t = summary.totals;
  const m = summary.memory;
  return `<table class="summary"><thead><tr><th>layer</th><th>operator</th><th>output shape</th><th>params</th><th>MACs</th></tr></thead><tbody>
${rows}
</tbody></table>
<ul class="totals">
<li>trainable parameters: <b>${formatCount(t.trainable)}</b>${t.frozen ? `, frozen ${formatCount(t.frozen)}` : ""}, non-trainable state ${formatCount(t.state)}</li>
<li>MACs per clip: <b>${formatMacs(t.macs)}</b> (${formatCount(t.macs)})</li>
<li>activations per clip: <b>${formatBytes(m.forward)}</b> forward (${formatBytes(m.peak)} alive at the peak of inference); training estimate ${formatBytes(m.training.total)} at batch ${m.training.batch}</li>
</ul>`;
}

function evaluationSection(report: EvaluationReport): string {
  const classes = report.perClass
    .map((c, k) => `<tr><td>${k}</td><td>${escapeHtml(c.name)}</td><td class="n">${pct(c.accuracy)}</td><td class="n">${c.count}</td></tr>`)
    .join("\n");
  const header = report.perClass.map((_, k) => `<th>${k}</th>`).join("");
  const matrix = report.confusion
    .map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0);
      const cells = row
        .map(
          (v, j) =>
            `<td class="n${i === j ? " diag" : ""}" style="background: rgba(8, 48, 107, ${total ? (0.85 * v) / total : 0}); color: ${total && v / total > 0.5 ? "white" : "inherit"}">${v}</td>`,
        )
        .join("");
      return `<tr><th>${i} ${escapeHtml(report.perClass[i]!.name)}</th>${cells}</tr>`;
    })
    .join("\n");
  return `<p class="headline">top-1 <b>${pct(report.top1)}</b> · top-5 <b>${pct(report.top5)}</b> · ${report.count} videos, ${report.views} view${report.views === 1 ? "" : "s"} each, ${escapeHtml(report.average)} averaging</p>
<div class="row">
<table class="classes"><thead><tr><th>#</th><th>class</th><th>accuracy</th><th>videos</th></tr></thead><tbody>
${classes}
</tbody></table>
<div><table class="confusion"><caption>confusion matrix (rows: true class, columns: predicted)</caption><thead><tr><th></th>${header}</tr></thead><tbody>
${matrix}
</tbody></table>
<img class="confusion-png" alt="confusion matrix" src="${pngDataUri(confusionPng(report.confusion))}"></div>
</div>`;
}

function camSection(cams: readonly ReportCam[]): string {
  if (cams.length === 0) return "<p>No validation video could be explained.</p>";
  return cams
    .map(
      (c) =>
        `<figure class="cam ${c.right ? "right" : "wrong"}"><figcaption><b>${c.right ? "right" : "wrong"}</b>: ${escapeHtml(c.video)}, true <b>${escapeHtml(c.trueClass)}</b>, predicted <b>${escapeHtml(c.predictedClass)}</b>. ${escapeHtml(c.caption)}</figcaption><img alt="Grad-CAM of ${escapeHtml(c.video)}" src="${pngDataUri(c.png)}"></figure>`,
    )
    .join("\n");
}

/** The report page. */
export function reportHtml(parts: ReportParts): string {
  const section = (id: string, title: string, body: string) => `<section data-section="${id}" id="${id}"><h2>${title}</h2>\n${body}\n</section>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(parts.title)}</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 0 auto; padding: 16px 24px; max-width: 1400px; color: #222; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 17px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 28px; }
  nav a { margin-right: 12px; }
  pre { background: #f6f8fa; padding: 10px; overflow: auto; font-size: 12px; max-height: 480px; }
  table { border-collapse: collapse; font-size: 12px; }
  td, th { border: 1px solid #e2e2e2; padding: 2px 6px; text-align: left; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  td.diag { outline: 2px solid #14a03c; outline-offset: -2px; }
  tr.stream td { color: #777; }
  .summary-wrap { max-height: 520px; overflow: auto; display: inline-block; }
  .drawing { overflow: auto; max-height: 900px; border: 1px solid #eee; }
  .row { display: flex; gap: 32px; flex-wrap: wrap; align-items: flex-start; }
  .confusion-png { margin-top: 8px; width: 200px; image-rendering: pixelated; }
  figure.cam { margin: 12px 0 24px; }
  figure.cam.right figcaption b:first-child { color: #14803c; }
  figure.cam.wrong figcaption b:first-child { color: #c0392b; }
  figure.cam img { max-width: 100%; }
  .meta { color: #555; font-size: 13px; }
</style>
</head>
<body>
<header><h1>${escapeHtml(parts.title)}</h1>
<p class="meta">run ${escapeHtml(parts.run)} · data ${escapeHtml(parts.data)} · spec ${escapeHtml(parts.specFile)}</p>
<nav><a href="#spec">spec</a><a href="#network">network</a><a href="#curves">curves</a><a href="#evaluation">evaluation</a><a href="#gradcam">Grad-CAM</a></nav></header>
${section("spec", "spec and summary", `<pre>${escapeHtml(parts.specText)}</pre>\n<div class="summary-wrap">${summaryTable(parts.summary)}</div>`)}
${section("network", "network", `<div class="drawing">${inlineSvg(parts.graphSvg)}</div>`)}
${section("curves", "training curves", inlineSvg(parts.curvesSvg))}
${section("evaluation", "evaluation (test protocol)", evaluationSection(parts.evaluation))}
${section("gradcam", "Grad-CAM of validation videos", camSection(parts.cams))}
</body>
</html>
`;
}
