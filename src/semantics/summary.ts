/** Per-layer tables and totals for `vnet summary` (text and JSON). */
import { formatShape } from "../ops/values.js";
import { activationMemory, formatBytes, optimizerStateName, type ActivationMemory } from "./memory.js";
import { allLayers, totals, type CheckedNetwork, type Totals } from "./network.js";
import { layerRows } from "./rows.js";

export interface SummaryRow {
  readonly name: string;
  readonly op: string;
  readonly shape: readonly number[];
  readonly params: number;
  readonly macs: number;
  readonly frozen: boolean;
  readonly stream: boolean;
  readonly depth: number;
  /** One row per box [K, ...] (after `roi_align`), not per clip. */
  readonly perBox?: true;
}

export interface Summary {
  readonly network: string;
  readonly file: string;
  readonly classes?: number;
  readonly inputs: readonly { name: string; shape: readonly number[]; kind: string; modelInput: boolean; perBox?: true }[];
  readonly layers: readonly SummaryRow[];
  readonly totals: Totals;
  /** Activation memory in bytes (see `memory.ts`). */
  readonly memory: ActivationMemory;
}

export function summarize(network: CheckedNetwork): Summary {
  const layers: SummaryRow[] = [];
  const rows = layerRows(network.layers);
  const perBox = (id: number) => (rows.get(id) === "boxes" ? { perBox: true as const } : {});
  for (const { layer, name, frozen, depth } of allLayers(network.layers)) {
    layers.push({
      name,
      op: layer.op,
      shape: layer.shape,
      params: layer.params,
      macs: layer.macs,
      frozen,
      stream: layer.stream,
      depth,
      ...(depth === 0 ? perBox(layer.id) : {}),
    });
  }
  return {
    network: network.name,
    file: network.file,
    ...(network.classes !== undefined ? { classes: network.classes } : {}),
    inputs: network.inputs.map((i) => ({ name: i.name, shape: i.shape, kind: i.kind, modelInput: i.modelInput, ...perBox(i.layer) })),
    layers,
    totals: totals(network),
    memory: activationMemory(network),
  };
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

export function formatMacs(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** Renders the summary as an aligned text table. */
export function formatSummary(summary: Summary): string {
  const header = ["layer", "operator", "output shape", "params", "MACs"];
  const rows = summary.layers.map((l) => [
    `${"  ".repeat(l.depth)}${l.name}${l.frozen && l.params > 0 ? " (frozen)" : ""}${l.stream ? " (stream)" : ""}`,
    l.op,
    formatShape(l.shape, l.perBox ? "K" : "N"),
    l.params ? formatCount(l.params) : "",
    l.macs ? formatMacs(l.macs) : "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const t = summary.totals;
  return [
    `network ${summary.network}${summary.classes !== undefined ? ` (${summary.classes} classes)` : ""}`,
    `inputs: ${
      summary.inputs
        .filter((i) => i.modelInput)
        .map((i) => `${i.name} ${formatShape(i.shape, i.perBox ? "K" : "N")}`)
        .join(", ") || "none"
    }`,
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    `trainable parameters: ${formatCount(t.trainable)}`,
    ...(t.frozen ? [`frozen parameters:    ${formatCount(t.frozen)}`] : []),
    `non-trainable state:  ${formatCount(t.state)}`,
    // A detector's per-box layers run once per box; the totals count one box per clip.
    `MACs per clip:        ${formatMacs(t.macs)} (${formatCount(t.macs)})${summary.layers.some((l) => l.perBox) ? ", the [K, ...] layers for one box" : ""}`,
    ...formatMemory(summary.memory),
  ].join("\n");
}

/** The activation-memory lines of a summary. */
export function formatMemory(memory: ActivationMemory): string[] {
  const t = memory.training;
  return [
    `activations per clip: ${formatBytes(memory.forward)} forward (all layer outputs; ${formatBytes(memory.peak)} alive at the peak of inference)`,
    `training estimate:    ${formatBytes(t.total)} at batch ${t.batch} (${formatBytes(t.activations)} activations and their gradients, ${formatBytes(t.parameters)} weights, gradients${optimizerStateName(t)})`,
  ];
}
