/**
 * `vnet plot <run...> [-o curves.png|.svg|.html]`: loss, accuracy and learning rate per epoch
 * from each run's metrics.jsonl, the runs on one chart to compare them (src/vis/plot.ts: Vega-Lite
 * rendered headless). With one run and no -o, the chart goes to <run>/curves.png.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { VnetError } from "../../diagnostics/error.js";
import { writeFileAtomic } from "../../runtime/files.js";
import { drawCurves, readRunCurves, type PlotFormat, type RunCurves } from "../../vis/plot.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";

const FORMATS: Record<string, PlotFormat> = { ".png": "png", ".svg": "svg", ".html": "html", ".htm": "html" };

/** Legend names: each run's directory name, with enough of its path to tell runs apart. */
function runNames(dirs: readonly string[]): string[] {
  const parts = dirs.map((d) => path.resolve(d).split(path.sep).filter(Boolean));
  for (let depth = 1; ; depth++) {
    const names = parts.map((p) => p.slice(-depth).join("/"));
    if (new Set(names).size === names.length || depth >= Math.max(...parts.map((p) => p.length))) return names;
  }
}

export const command = defineCommand({
  name: "plot",
  usage: "plot <run-dir...> [-o curves.png|curves.svg|curves.html]",
  description: "Draws loss, accuracy and learning rate per epoch from the runs' metrics.jsonl, several runs on one chart.",
  positional: { names: "run directories", min: 1 },
  flags: {
    out: { type: "string", alias: "-o", value: "FILE", doc: "the chart: .png, .svg or .html (default with one run: <run>/curves.png)" },
  },
  async run({ positional: given, flags }, { out, err }) {
    if (!flags.out && given.length > 1) throw new UsageError("vnet plot of several runs needs an output file: -o curves.png, .svg or .html");
    const file = flags.out ?? path.join(given[0]!, "curves.png");
    const format = FORMATS[path.extname(file).toLowerCase()];
    if (!format) throw new UsageError(`vnet plot writes .png, .svg or .html, not \`${path.extname(file) || file}\``);
    const names = runNames(given);
    const runs: RunCurves[] = given.map((dir, i) => {
      if (!fs.existsSync(path.join(dir, "metrics.jsonl")))
        throw new VnetError("VN109", `${dir} holds no metrics.jsonl: is it a run directory of vnet train?`, { path: dir });
      return readRunCurves(dir, names[i]!);
    });
    for (const run of runs) {
      if (run.skipped) err(`${run.name}: skipped ${run.skipped} unreadable line${run.skipped === 1 ? "" : "s"} of metrics.jsonl`);
      if (run.epochs.length === 0)
        throw new VnetError("VN109", `${run.name}: metrics.jsonl holds no finished epoch yet`, { path: path.join(given[runs.indexOf(run)]!, "metrics.jsonl") });
    }
    writeFileAtomic(file, await drawCurves(runs, format), { createDirectory: true });
    out(`${runs.map((r) => `${r.name}: ${r.epochs.length} epoch${r.epochs.length === 1 ? "" : "s"}`).join(", ")}`);
    out(`wrote ${file}`);
    return 0;
  },
});
