/**
 * `vnet graph`: a checked network drawn by Graphviz (`dot`, compiled to WebAssembly by
 * @hpcc-js/wasm-graphviz): SVG, PNG (through resvg), or a self-contained HTML page in which every
 * block is a group that opens and closes with a click, re-laid out in the page by the same
 * Graphviz build and the same dot writer (`graphDot`).
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { Graphviz } from "@hpcc-js/wasm-graphviz";
import type { CheckedNetwork } from "../../semantics/network.js";
import { svgToPng } from "../svg.js";
import { graphDot } from "./dot.js";
import { expandedForLimit, expandedToDepth, graphModel, type GraphModel } from "./model.js";

export type GraphFormat = "svg" | "png" | "html";

export interface DrawOptions {
  /** Open groups up to this depth (0: every block closed); default: as deep as stays legible. */
  readonly depth?: number;
  /** With `depth` unset: the most boxes and nodes drawn (default 64). */
  readonly limit?: number;
}

let graphviz: Promise<Graphviz> | undefined;

/** The Graphviz instance (loaded once). */
function loadGraphviz(): Promise<Graphviz> {
  graphviz ??= Graphviz.load();
  return graphviz;
}

/** Which groups a drawing opens. */
export function openGroups(model: GraphModel, options: DrawOptions = {}): string[] {
  return options.depth !== undefined ? expandedToDepth(model, options.depth) : expandedForLimit(model, options.limit);
}

/** The network as an SVG document. */
export async function graphSvg(network: CheckedNetwork | GraphModel, options: DrawOptions = {}): Promise<string> {
  const model = "nodes" in network ? network : graphModel(network);
  return (await loadGraphviz()).dot(graphDot(model, openGroups(model, options)), "svg");
}

/** The network drawn in the requested format (PNG at twice the SVG's size). */
export async function drawGraph(network: CheckedNetwork, format: GraphFormat, options: DrawOptions = {}): Promise<Buffer> {
  const model = graphModel(network);
  if (format === "html") return Buffer.from(graphHtml(model, openGroups(model, options)));
  const svg = await graphSvg(model, options);
  return format === "svg" ? Buffer.from(svg) : svgToPng(svg, { scale: 2 });
}

/** The Graphviz module's own source (one ES module with its WebAssembly inlined). */
function graphvizSource(): string {
  const require = createRequire(import.meta.url);
  return fs.readFileSync(require.resolve("@hpcc-js/wasm-graphviz"), "utf8");
}

/** `</script>` cannot appear inside an inline script. */
function scriptSafe(json: string): string {
  return json.replace(/</g, "\\u003c");
}

/**
 * A self-contained page: the drawing model, Graphviz (as a data: module), and `graphDot`. A click
 * on a closed group opens it; a click on an open group's box closes it; the buttons open or close
 * every group. Nothing is fetched.
 */
export function graphHtml(model: GraphModel, initiallyOpen: readonly string[]): string {
  const module = Buffer.from(graphvizSource()).toString("base64");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${model.network}: vnet graph</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 0; background: #fff; color: #222; }
  header { padding: 10px 16px; border-bottom: 1px solid #ddd; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0; }
  header span { font-size: 13px; color: #555; }
  button { font: inherit; font-size: 13px; padding: 3px 10px; }
  #graph { padding: 12px; overflow: auto; }
  #graph svg { max-width: none; }
  #graph g.cluster, #graph g.node[id^="group-"] { cursor: pointer; }
</style>
</head>
<body>
<header><h1>network ${model.network}</h1><span>${model.cost}</span>
<button id="open-all">open all blocks</button><button id="close-all">close all blocks</button><span id="status"></span></header>
<div id="graph" data-network="${model.network}"></div>
<script id="model" type="application/json">${scriptSafe(JSON.stringify(model))}</script>
<script type="module">
const model = JSON.parse(document.getElementById("model").textContent);
const graphDot = ${graphDot.toString()};
const { Graphviz } = await import("data:text/javascript;base64,${module}");
const graphviz = await Graphviz.load();
const open = new Set(${JSON.stringify(initiallyOpen)});
const status = document.getElementById("status");
function draw() {
  const svg = graphviz.dot(graphDot(model, [...open], { interactive: true }), "svg");
  const box = document.getElementById("graph");
  box.innerHTML = svg;
  status.textContent = open.size + " of " + model.groups.length + " blocks open";
  box.dataset.drawn = String(Number(box.dataset.drawn || 0) + 1);
}
document.getElementById("graph").addEventListener("click", (event) => {
  const target = event.target.closest("g.cluster, g.node");
  const match = target && /^group-(\\d+)$/.exec(target.id);
  if (!match) return;
  const group = model.groups[Number(match[1])];
  if (open.has(group.key)) {
    for (const g of model.groups) if (g.key === group.key || isInside(g, group.key)) open.delete(g.key);
  } else open.add(group.key);
  draw();
});
function isInside(group, key) {
  for (let p = group.parent; p !== undefined; p = model.groups.find((g) => g.key === p)?.parent) if (p === key) return true;
  return false;
}
document.getElementById("open-all").onclick = () => { for (const g of model.groups) open.add(g.key); draw(); };
document.getElementById("close-all").onclick = () => { open.clear(); draw(); };
draw();
</script>
</body>
</html>
`;
}
