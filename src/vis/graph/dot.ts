/**
 * The drawing model as a Graphviz `dot` graph: lanes (streams) as clusters side by side, open
 * groups as nested clusters (boxes), closed groups as one node with the group's totals, every edge
 * labelled with its shape, fusion points and temporal modules coloured. Graphviz (`dot`, compiled
 * to WebAssembly) lays it out.
 *
 * `graphDot` uses nothing outside its own body: the HTML view embeds its source
 * (`graphDot.toString()`) and calls it in the browser whenever a group is opened or closed, so the
 * page and `vnet graph -o net.svg` draw with the same code.
 */
import type { GraphModel } from "./model.js";

export interface DotOptions {
  /** Give clusters and closed-group nodes ids `group-<index>` (for the HTML view's clicks). */
  readonly interactive?: boolean;
}

/** The dot source of a drawing with the `expanded` groups open (keys of `model.groups`). */
export function graphDot(model: GraphModel, expanded: readonly string[], options: DotOptions = {}): string {
  const open = new Set(expanded);
  const FONT = "Helvetica";
  const COLOURS = {
    fusion: { fill: "#fde3c8", line: "#d9730d" },
    temporal: { fill: "#d8f0d8", line: "#2e8b3d" },
    layer: { fill: "#ffffff", line: "#5f6b7a" },
    stream: { fill: "#f2f2f2", line: "#8a8a8a" },
    input: { fill: "#e6e9ef", line: "#4a5566" },
    group: { fill: "#f7f9fc", line: "#9aa7b8" },
    closed: { fill: "#eef2f8", line: "#4a5f80" },
  };
  const LANE_FILLS = ["#eaf2fb", "#fbeff0", "#eef7ea", "#f6f0fb", "#fbf7e6"];
  const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const label = (title: string, lines: readonly string[]) =>
    `<<b>${esc(title)}</b>${lines
      .filter(Boolean)
      .map((l, i) => `<br/><font point-size="8"${i > 0 ? ' color="#555555"' : ""}>${esc(l)}</font>`)
      .join("")}>`;
  const groupIndex = new Map(model.groups.map((g, i) => [g.key, i]));
  const groupByKey = new Map(model.groups.map((g) => [g.key, g]));
  const laneIndex = new Map(model.lanes.map((l, i) => [l.name, i]));

  // What each node is drawn as: itself, or the outermost closed group holding it.
  const visible = (groups: readonly string[], self: string) => {
    const closed = groups.find((g) => !open.has(g));
    return closed === undefined ? self : `g${groupIndex.get(closed)}`;
  };
  /** Children of each container: "" is the graph, `lane:<name>` a lane, a group key an open group. */
  const children = new Map<string, string[]>();
  const place = (container: string, line: string) => {
    if (!children.has(container)) children.set(container, []);
    children.get(container)!.push(line);
  };
  const containerOf = (lane: string | undefined, groups: readonly string[]) => {
    const inner = [...groups].reverse().find((g) => open.has(g));
    if (inner !== undefined) return inner;
    return lane !== undefined && laneIndex.has(lane) ? `lane:${lane}` : "";
  };
  const nodeStyle = (kind: "layer" | "stream" | "input" | "closed", highlight: string | undefined, frozen: boolean) => {
    const colours = highlight === "fusion" ? COLOURS.fusion : highlight === "temporal" ? COLOURS.temporal : COLOURS[kind];
    const style = kind === "stream" ? "rounded,filled,dashed" : kind === "closed" ? "filled" : "rounded,filled";
    const width = highlight ? 2 : kind === "closed" ? 1.4 : 1;
    return `style="${style}", fillcolor="${colours.fill}", color="${colours.line}", penwidth=${width}${frozen ? ', fontcolor="#555555"' : ""}`;
  };

  const drawn = new Set<string>();
  for (const node of model.nodes) {
    const id = visible(node.groups, node.id);
    if (drawn.has(id)) continue;
    drawn.add(id);
    if (id === node.id) {
      const kind = node.kind;
      const title = node.kind === "input" ? `input ${node.name}` : node.name;
      const lines = [node.detail, node.frozen && node.params ? `${node.cost} (frozen)` : node.cost];
      place(containerOf(node.lane, node.groups), `${id} [label=${label(title, lines)}, ${nodeStyle(kind, node.highlight, node.frozen)}];`);
    } else {
      const group = model.groups[Number(id.slice(1))]!;
      const ancestors = node.groups.slice(0, node.groups.indexOf(group.key));
      const attrs = `${nodeStyle("closed", group.highlight, false)}${options.interactive ? `, id="group-${groupIndex.get(group.key)}", tooltip="open ${esc(group.name)}"` : ""}`;
      place(containerOf(group.lane, ancestors), `${id} [label=${label(group.name, [group.detail, group.cost])}, ${attrs}];`);
    }
  }
  // Open groups are clusters inside their parent group, or their lane.
  const allOpen = (key: string | undefined): boolean => key === undefined || (open.has(key) && allOpen(groupByKey.get(key)?.parent));
  for (const key of open) {
    const group = groupByKey.get(key);
    if (!group || !allOpen(key)) continue;
    const parent =
      group.parent !== undefined && open.has(group.parent) ? group.parent : group.lane !== undefined && laneIndex.has(group.lane) ? `lane:${group.lane}` : "";
    place(parent, `@group:${key}`);
  }
  for (const lane of model.lanes) place("", `@lane:${lane.name}`);

  const lines: string[] = [];
  const emit = (container: string, indent: string) => {
    for (const line of children.get(container) ?? []) {
      if (line.startsWith("@group:")) {
        const key = line.slice(7);
        const group = groupByKey.get(key)!;
        const i = groupIndex.get(key)!;
        const title = group.perFrame ? `${group.name}: ${group.perFrame}` : group.name;
        lines.push(`${indent}subgraph cluster_g${i} {`);
        lines.push(
          `${indent}  label=${label(title, [group.cost])}; style="rounded,filled"; fillcolor="${COLOURS.group.fill}"; color="${group.highlight === "fusion" ? COLOURS.fusion.line : group.highlight === "temporal" ? COLOURS.temporal.line : COLOURS.group.line}";${options.interactive ? ` id="group-${i}"; tooltip="close ${esc(group.name)}";` : ""}`,
        );
        emit(key, `${indent}  `);
        lines.push(`${indent}}`);
      } else if (line.startsWith("@lane:")) {
        const name = line.slice(6);
        const lane = model.lanes[laneIndex.get(name)!]!;
        lines.push(`${indent}subgraph cluster_lane${laneIndex.get(name)} {`);
        lines.push(
          `${indent}  label=${label(`stream ${lane.name}`, [lane.pipeline])}; style="filled"; fillcolor="${LANE_FILLS[laneIndex.get(name)! % LANE_FILLS.length]}"; color="#c0c8d4";`,
        );
        emit(`lane:${name}`, `${indent}  `);
        lines.push(`${indent}}`);
      } else lines.push(`${indent}${line}`);
    }
  };
  emit("", "  ");

  const edges = new Map<string, string>();
  const visibleOf = new Map<string, string>();
  for (const node of model.nodes) visibleOf.set(node.id, visible(node.groups, node.id));
  for (const edge of model.edges) {
    const from = visibleOf.get(edge.from);
    const to = visibleOf.get(edge.to);
    if (from === undefined || to === undefined || from === to) continue;
    const key = `${from}->${to}`;
    if (!edges.has(key)) edges.set(key, `  ${from} -> ${to} [label="${esc(edge.label)}"];`);
  }
  const legend = `<font color="${COLOURS.fusion.line}">fusion point</font>   <font color="${COLOURS.temporal.line}">temporal module</font>   <font color="${COLOURS.stream.line}">dashed: data pipeline</font>`;
  return [
    "digraph vnet {",
    `  graph [rankdir=TB, fontname="${FONT}", fontsize=12, nodesep=0.25, ranksep=0.32, newrank=true, labelloc=t, label=<<b>${esc(`network ${model.network}`)}</b><br/><font point-size="9">${esc(model.cost)}</font><br/><font point-size="8">${legend}</font>>];`,
    `  node [shape=box, fontname="${FONT}", fontsize=9, margin="0.1,0.04", height=0.3];`,
    `  edge [fontname="${FONT}", fontsize=7, fontcolor="#4a4a4a", color="#7a8594", arrowsize=0.5];`,
    ...lines,
    ...edges.values(),
    "}",
  ].join("\n");
}
