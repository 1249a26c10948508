/**
 * From source ranges back to checked layers: the checker records each layer's origin (file and
 * the stage's range), so the layers a stage produced are those whose origin is that stage. A
 * stage inside a block yields one layer per expansion of the block.
 */
import type { Range } from "../diagnostics/diagnostic.js";
import { formatShape } from "../ops/values.js";
import type { CheckedNetwork, Layer } from "../semantics/network.js";
import { formatCount, formatMacs } from "../semantics/summary.js";
import type { Workspace } from "./workspace.js";

export interface LayerInstance {
  readonly network: CheckedNetwork;
  /** Hierarchical name including per_frame prefixes. */
  readonly name: string;
  readonly layer: Layer;
  /** The layer list the layer belongs to (a per_frame body has its own), where its inputs' ids point. */
  readonly graph: readonly Layer[];
}

/** Checked networks from every current check that read `file`, each network once. */
export function networksReading(workspace: Workspace, file: string): CheckedNetwork[] {
  const own = workspace.currentAnalysis(file);
  const analyses = [...(own ? [own] : []), ...workspace.allAnalyses().filter((a) => a !== own)];
  const text = workspace.textOf(file);
  const seen = new Set<string>();
  const out: CheckedNetwork[] = [];
  for (const analysis of analyses) {
    const module = analysis.result.program.modules.get(file);
    if (!module || module.text !== text) continue;
    for (const network of analysis.result.networks) {
      const key = `${network.file}\0${network.name}\0${network.range.start}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(network);
    }
  }
  return out;
}

/** Layers whose origin is exactly `range` in `file`. */
export function layersFrom(workspace: Workspace, file: string, range: Range): LayerInstance[] {
  const out: LayerInstance[] = [];
  const visit = (network: CheckedNetwork, graph: readonly Layer[], prefix: string, depth: number) => {
    for (const layer of graph) {
      if (layer.op === "input" && depth > 0) continue;
      const name = prefix ? `${prefix}.${layer.name}` : layer.name;
      if (layer.origin.file === file && layer.origin.range.start === range.start && layer.origin.range.end === range.end)
        out.push({ network, name, layer, graph });
      if (layer.body) visit(network, layer.body, name, depth + 1);
    }
  };
  for (const network of networksReading(workspace, file)) visit(network, network.layers, "", 0);
  return out;
}

/** The layers feeding a set of layers (their inputs), as shapes, one string per distinct shape list. */
export function inputShapes(instances: readonly LayerInstance[]): string[] {
  const shapes = new Set<string>();
  for (const { layer, graph } of instances) {
    const inputs = layer.inputs.map((id) => graph.find((l) => l.id === id)).filter((l): l is Layer => l !== undefined);
    if (inputs.length) shapes.add(inputs.map((l) => formatShape(l.shape)).join(", "));
  }
  return [...shapes];
}

/** Markdown: one line for a single layer, a table for several expansions. */
export function layersMarkdown(instances: readonly LayerInstance[], limit = 8): string {
  if (instances.length === 0) return "";
  if (instances.length === 1) {
    const { layer, name, network } = instances[0]!;
    return `**${name}** in \`${network.name}\`: output \`${formatShape(layer.shape)}\` · params ${formatCount(layer.params)} · MACs ${formatMacs(layer.macs)}`;
  }
  const rows = instances
    .slice(0, limit)
    .map(
      ({ layer, name, network }) =>
        `| \`${name}\`${networkSuffix(instances, network)} | \`${formatShape(layer.shape)}\` | ${formatCount(layer.params)} | ${formatMacs(layer.macs)} |`,
    );
  const more = instances.length > limit ? `\n\n…and ${instances.length - limit} more expansion(s)` : "";
  return `| layer | output | params | MACs |\n|---|---|---:|---:|\n${rows.join("\n")}${more}`;
}

function networkSuffix(instances: readonly LayerInstance[], network: CheckedNetwork): string {
  return new Set(instances.map((i) => i.network.name)).size > 1 ? ` (${network.name})` : "";
}
