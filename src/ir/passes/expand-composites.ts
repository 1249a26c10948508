/**
 * Expands composite operators into primitive ones, so that backends only lower primitives and the
 * weights of each part get their own hierarchical name:
 * - `conv2plus1d` (torchvision Conv2Plus1D): [1, k, k] conv to `mid` channels -> bn -> relu ->
 *   [t, 1, 1] conv; names `.spatial`, `.spatial_bn`, `.spatial_relu`, `.temporal`.
 * - `lateral` (PySlowFast FuseFastToSlow): [k, 1, 1] conv with stride [alpha, 1, 1], padding
 *   k // 2, no bias -> bn -> relu, then concatenated after (or added to) the slow pathway;
 *   names `.conv`, `.bn`, `.relu`, `.fuse`.
 * - `nonlocal` (PySlowFast Nonlocal): theta on x; phi and g on x max-pooled by [1, 2, 2] when
 *   `subsample`; attention; 1x1x1 `out` conv; bn; residual add. Every projection has a bias.
 *   "gaussian" uses x itself as query and key (no theta, phi). The block's batch norm starts with
 *   a zero scale (PySlowFast's zero_init_final_norm), so a new block is the identity.
 * Batch norms made here use PyTorch's defaults (eps 1e-5, momentum 0.1), as the reference modules do.
 */
import { midplanes, type Args } from "../../ops/catalogue.js";
import { perAxis } from "../../ops/geometry.js";
import type { ArgValue, Shape } from "../../ops/values.js";
import type { IrGraph, IrNode } from "../graph.js";
import { IR_OPS } from "../ops.js";
import { childNode, rewriteNodes, type RewriteContext } from "./rewrite.js";

export const EXPAND_COMPOSITES = "expand-composites";

const BN_DEFAULTS: Args = { eps: 1e-5, momentum: 0.1 };

/** Replaces conv2plus1d, lateral and nonlocal nodes by the primitives they are made of. */
export function expandComposites(graph: IrGraph): IrGraph {
  return rewriteNodes(graph, EXPAND_COMPOSITES, (node, ctx) => {
    switch (node.op) {
      case "conv2plus1d":
        return expandConv2Plus1d(node, ctx);
      case "lateral":
        return expandLateral(node, ctx);
      case "nonlocal":
        return expandNonlocal(node, ctx);
      default:
        return undefined;
    }
  });
}

/** Builds a chain of child nodes; the last keeps the composite's id so consumers stay wired. */
class Chain {
  readonly nodes: IrNode[] = [];
  constructor(
    private readonly parent: IrNode,
    private readonly ctx: RewriteContext,
  ) {}

  shapeOf(id: number): Shape {
    return this.nodes.find((n) => n.id === id)?.shape ?? this.ctx.shapeOf(id);
  }

  add(name: string, op: string, args: Args, inputs: readonly number[], keepId = false): number {
    const shape = IR_OPS.get(op)!.shape!(
      inputs.map((i) => this.shapeOf(i)),
      args,
    );
    if (typeof shape === "string") throw new Error(`internal: expanding ${this.parent.name}: ${op} ${name}: ${shape}`);
    const id = keepId ? this.parent.id : this.ctx.newId();
    this.nodes.push(childNode(this.parent, name, { id, op, args, inputs, shape }));
    return id;
  }
}

function expandConv2Plus1d(node: IrNode, ctx: RewriteContext): IrNode[] {
  const chain = new Chain(node, ctx);
  const input = node.inputs[0]!;
  const cin = chain.shapeOf(input).at(-1)!;
  const filters = node.args.filters as number;
  const [kt, kh, kw] = perAxis(node.args.kernel, 3, 3) as [number, number, number];
  const [st, sh, sw] = perAxis(node.args.stride, 3, 1) as [number, number, number];
  const mid = (node.args.mid as number | undefined) ?? midplanes(cin, filters, kt, kh);
  const bias = node.args.bias === true;
  // The catalogue splits padding like the stride: time on the temporal conv, space on the spatial one.
  const pad = node.args.pad;
  const padded = typeof pad === "string" ? undefined : perAxis(pad as ArgValue, 3, 1);
  const spatialPad = padded ? [0, padded[1]!, padded[2]!] : (pad as string);
  const temporalPad = padded ? [padded[0]!, 0, 0] : (pad as string);
  const conv = (filters: number, kernel: number[], stride: number[], pad: ArgValue): Args => ({ filters, kernel, stride, pad, dilation: 1, groups: 1, bias });
  const spatial = chain.add("spatial", "conv3d", conv(mid, [1, kh, kw], [1, sh, sw], spatialPad), [input]);
  const bn = chain.add("spatial_bn", "bn", BN_DEFAULTS, [spatial]);
  const relu = chain.add("spatial_relu", "relu", {}, [bn]);
  chain.add("temporal", "conv3d", conv(filters, [kt, 1, 1], [st, 1, 1], temporalPad), [relu], true);
  return chain.nodes;
}

function expandLateral(node: IrNode, ctx: RewriteContext): IrNode[] {
  const chain = new Chain(node, ctx);
  const [slow, fast] = node.inputs as [number, number];
  const alpha = node.args.alpha as number;
  const k = node.args.kernel as number;
  const out = chain.shapeOf(fast).at(-1)! * (node.args.ratio as number);
  const conv = chain.add(
    "conv",
    "conv3d",
    { filters: out, kernel: [k, 1, 1], stride: [alpha, 1, 1], pad: [Math.floor(k / 2), 0, 0], dilation: 1, groups: 1, bias: false },
    [fast],
  );
  const bn = chain.add("bn", "bn", BN_DEFAULTS, [conv]);
  const relu = chain.add("relu", "relu", {}, [bn]);
  if (node.args.fuse === "sum") chain.add("fuse", "add", {}, [slow, relu], true);
  else chain.add("fuse", "concat", { axis: "channels" }, [slow, relu], true);
  return chain.nodes;
}

function expandNonlocal(node: IrNode, ctx: RewriteContext): IrNode[] {
  const chain = new Chain(node, ctx);
  const x = node.inputs[0]!;
  const channels = chain.shapeOf(x).at(-1)!;
  const inner = (node.args.inner as number | undefined) ?? Math.floor(channels / 2);
  const mode = (node.args.mode as string | undefined) ?? "embedded_gaussian";
  const project = (filters: number): Args => ({ filters, kernel: 1, stride: 1, pad: 0, dilation: 1, groups: 1, bias: true });
  const pooled = node.args.subsample === false ? x : chain.add("pool", "maxpool3d", { kernel: [1, 2, 2], stride: [1, 2, 2], pad: 0, ceil: false }, [x]);
  const query = mode === "gaussian" ? x : chain.add("theta", "conv3d", project(inner), [x]);
  const key = mode === "gaussian" ? pooled : chain.add("phi", "conv3d", project(inner), [pooled]);
  const value = chain.add("g", "conv3d", project(inner), [pooled]);
  const attended = chain.add("attention", "nl_attention", { mode, inner }, [query, key, value]);
  const out = chain.add("out", "conv3d", project(channels), [attended]);
  // PySlowFast zero-initialises this batch norm's scale, so a new block starts as the identity.
  const bn = chain.add("bn", "bn", { ...BN_DEFAULTS, zero_gamma: true }, [out]);
  chain.add("residual", "add", {}, [x, bn], true);
  return chain.nodes;
}
