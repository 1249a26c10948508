/**
 * `vnet graph <spec> -o net.svg|net.png|net.html`: the checked network drawn by Graphviz: streams
 * as lanes, blocks as boxes (SVG, PNG) or as groups that open and close with a click (HTML),
 * edges labelled with shapes, fusion points and temporal modules coloured, parameters and MACs
 * per layer and block (src/vis/graph).
 */
import * as path from "node:path";
import { writeFileAtomic } from "../../runtime/files.js";
import { drawGraph, openGroups, type GraphFormat } from "../../vis/graph/draw.js";
import { graphModel, visibleCount } from "../../vis/graph/model.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { NETWORK_FLAG } from "../flags.js";
import { checkNetwork } from "../util.js";

const FORMATS: Record<string, GraphFormat> = { ".svg": "svg", ".png": "png", ".html": "html", ".htm": "html" };

export const command = defineCommand({
  name: "graph",
  usage: "graph <spec> -o net.svg|net.png|net.html [--depth N] [--network NAME]",
  description:
    "Draws the checked network: streams as lanes, blocks as boxes (SVG, PNG) or collapsible groups (HTML), edges labelled with shapes, fusion points and temporal modules highlighted, parameters and MACs per block.",
  positional: { names: "spec file", min: 1, max: 1 },
  flags: {
    out: { type: "string", alias: "-o", value: "FILE", doc: "the drawing: .svg, .png or .html (the format follows the extension)" },
    depth: { type: "int", min: 0, doc: "open blocks down to this depth (0: every block closed; default: as deep as stays legible, about 64 boxes)" },
    network: NETWORK_FLAG,
  },
  async run({ positional, flags }, { out, color }) {
    const file = flags.out;
    if (!file) throw new UsageError("vnet graph needs an output file: -o net.svg, net.png or net.html");
    const format = FORMATS[path.extname(file).toLowerCase()];
    if (!format) throw new UsageError(`vnet graph writes .svg, .png or .html, not \`${path.extname(file) || file}\``);
    const checked = checkNetwork(positional[0]!, flags.network, out, color);
    if (typeof checked === "number") return checked;
    const options = flags.depth !== undefined ? { depth: flags.depth } : {};
    const bytes = await drawGraph(checked.network, format, options);
    writeFileAtomic(file, bytes, { createDirectory: true });
    const model = graphModel(checked.network);
    const open = openGroups(model, options);
    out(
      `${checked.network.name}: ${model.nodes.length} layers in ${model.groups.length} blocks${model.lanes.length ? `, ${model.lanes.length} streams (${model.lanes.map((l) => l.name).join(", ")})` : ""}; ${format === "html" ? "opening with" : "drawn as"} ${visibleCount(model, open)} boxes (${open.length} blocks open)`,
    );
    out(`wrote ${file}`);
    return 0;
  },
});
