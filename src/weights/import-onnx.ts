/**
 * ONNX weights onto a spec's layers by structure: the weighted layers of the ONNX graph (as
 * `backends/onnx/read.ts` reads them, in graph order) and of the spec's lowered graph (in IR order) are
 * paired in order, each spec layer taking the first unpaired ONNX layer of its kind whose shapes,
 * groups, strides and dilations fit (so a PySlowFast block that computes its shortcut first still
 * pairs). Layouts become vnet's: conv [out, in / groups, ...k] -> [...k, in / groups, out]; Gemm
 * [out, in] (transB) -> [in, out], times alpha, bias times beta; a dense layer after a flatten of
 * a spatial map has its rows reordered from channels-first to channels-last flattening.
 * Batch norm: scale, B, mean, var -> gamma, beta, moving_mean, moving_variance, the variance
 * shifted by the difference of the epsilons when they differ. A conv whose batch norm the exporter
 * folded into it (eval-mode export: a Conv with a bias and no BatchNormalization) gives the spec's
 * batch norm the identity (gamma 1, mean 0, variance 1 - eps) with the conv's bias as beta.
 * A pure function of the lowered graph and the read ONNX model.
 */
import { diagnosticAt, type Diagnostic } from "../diagnostics/diagnostic.js";
import { storedWeightName, weightedNodes } from "../ir/weights.js";
import type { IrGraph, IrNode, WeightDecl, WeightRole } from "../ir/graph.js";
import type { Origin } from "../semantics/network.js";
import type { WeightMapping } from "./by-name.js";
import type { OnnxBatchNorm, OnnxConv, OnnxDense, OnnxLayer, OnnxModel, OnnxTensor } from "../backends/onnx/read.js";
import type { UnusedSource, WeightEntry } from "./report.js";
import type { Tensor } from "../runtime/checkpoint.js";
import { formatShape, sameShape } from "./tensors.js";

export interface OnnxImportOptions {
  /** Spec layers without an ONNX counterpart stay at their initialisers, and ONNX layers may be left over (warnings). */
  readonly partial?: boolean;
  /** The spec network's declaration, for network-level problems. */
  readonly at: Origin;
  /** The ONNX file, for problems located in it. */
  readonly file: string;
}

/** A spec layer with weights: a conv with the batch norm that alone reads it, a batch norm, or a dense layer. */
interface SpecLayer {
  readonly kind: "conv" | "bn" | "dense";
  readonly node: IrNode;
  readonly bn?: IrNode;
}

type Assignment = readonly {
  readonly decl: WeightDecl;
  readonly tensor: Tensor;
  readonly status: WeightEntry["status"];
  readonly source: OnnxTensor | undefined;
  readonly reason: string;
}[];

const decl = (node: IrNode, role: WeightRole) => node.weights?.find((w) => w.role === role);
const filled = (n: number, value: number) => new Float32Array(n).fill(value);

/** An ONNX conv weight [out, in, ...k] in vnet's layout [...k, in, out]. */
export function convToChannelsLast(weight: { readonly shape: readonly number[]; readonly values: Float32Array }): Tensor {
  const [out, inner, ...kernel] = weight.shape as [number, number, ...number[]];
  const taps = kernel.reduce((a, b) => a * b, 1);
  const values = new Float32Array(weight.values.length);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inner; i++) for (let k = 0; k < taps; k++) values[(k * inner + i) * out + o] = weight.values[(o * inner + i) * taps + k]!;
  return { shape: [...kernel, inner, out], values };
}

/** Rows x cols -> cols x rows. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/** The spec's weighted layers in IR order, convs paired with the batch norm that alone reads them. */
function specLayers(graph: IrGraph): { layers: SpecLayer[]; unsupported: IrNode[] } {
  const nodes = [...weightedNodes(graph)];
  const readers = new Map<number, IrNode[]>();
  const visit = (g: IrGraph) => {
    for (const node of g.nodes) {
      for (const input of node.inputs) readers.set(input, [...(readers.get(input) ?? []), node]);
      if (node.body) visit(node.body);
    }
  };
  visit(graph);
  const paired = new Set<number>();
  const layers: SpecLayer[] = [];
  const unsupported: IrNode[] = [];
  for (const node of nodes) {
    if (paired.has(node.id)) continue;
    if (node.op === "conv2d" || node.op === "conv3d") {
      const next = readers.get(node.id);
      const bn = next?.length === 1 && next[0]!.op === "bn" && !graph.outputs.includes(node.id) ? next[0] : undefined;
      if (bn) paired.add(bn.id);
      layers.push({ kind: "conv", node, ...(bn ? { bn } : {}) });
    } else if (node.op === "bn" || node.op === "dense") layers.push({ kind: node.op, node });
    else unsupported.push(node);
  }
  return { layers, unsupported };
}

function batchNormAssignment(node: IrNode, bn: OnnxBatchNorm): Assignment {
  const eps = node.args.eps as number;
  const shifted = Math.fround(eps) !== Math.fround(bn.epsilon);
  const variance = shifted ? bn.variance.values.map((v) => v + bn.epsilon - eps) : bn.variance.values;
  const n = bn.scale.values.length;
  return [
    { decl: decl(node, "gamma")!, tensor: { shape: [n], values: bn.scale.values }, status: "mapped", source: bn.scale, reason: `scale of ${bn.node}` },
    { decl: decl(node, "beta")!, tensor: { shape: [n], values: bn.bias.values }, status: "mapped", source: bn.bias, reason: `B of ${bn.node}` },
    { decl: decl(node, "moving_mean")!, tensor: { shape: [n], values: bn.mean.values }, status: "mapped", source: bn.mean, reason: `mean of ${bn.node}` },
    {
      decl: decl(node, "moving_variance")!,
      tensor: { shape: [n], values: variance },
      status: shifted ? "reshaped" : "mapped",
      source: bn.variance,
      reason: shifted ? `var of ${bn.node}, plus its epsilon ${bn.epsilon} minus the spec's ${eps}` : `var of ${bn.node}`,
    },
  ];
}

/** The identity batch norm standing in for one the exporter folded into `conv`, its bias as beta. */
function foldedAssignment(node: IrNode, conv: OnnxConv, channels: number): Assignment {
  const eps = node.args.eps as number;
  const why = `batch norm folded into ${conv.node} by the exporter`;
  return [
    { decl: decl(node, "gamma")!, tensor: { shape: [channels], values: filled(channels, 1) }, status: "mapped", source: undefined, reason: `1: ${why}` },
    conv.bias
      ? {
          decl: decl(node, "beta")!,
          tensor: { shape: [channels], values: conv.bias.values },
          status: "mapped",
          source: conv.bias,
          reason: `the bias of ${conv.node}, into which the exporter folded this batch norm`,
        }
      : {
          decl: decl(node, "beta")!,
          tensor: { shape: [channels], values: filled(channels, 0) },
          status: "mapped",
          source: undefined,
          reason: `0: ${why} (no bias)`,
        },
    { decl: decl(node, "moving_mean")!, tensor: { shape: [channels], values: filled(channels, 0) }, status: "mapped", source: undefined, reason: `0: ${why}` },
    {
      decl: decl(node, "moving_variance")!,
      tensor: { shape: [channels], values: filled(channels, 1 - eps) },
      status: "mapped",
      source: undefined,
      reason: `1 - eps: ${why}`,
    },
  ];
}

/** Pairs a spec conv (and its batch norm) with an ONNX conv, or says why they do not fit. */
function matchConv(layer: SpecLayer, conv: OnnxConv): Assignment | string {
  const kernelDecl = decl(layer.node, "kernel")!;
  const kernel = convToChannelsLast(conv.weight);
  if (!sameShape(kernel.shape, kernelDecl.shape))
    return `its weight ${formatShape(conv.weight.shape)} is ${formatShape(kernel.shape)} channels-last, not ${formatShape(kernelDecl.shape)}`;
  const groups = (layer.node.args.groups as number | undefined) ?? 1;
  if (conv.group !== groups) return `it has ${conv.group} groups, not ${groups}`;
  const strides = [layer.node.args.stride].flat() as number[];
  if (!sameShape(conv.strides, strides.length === conv.strides.length ? strides : Array(conv.strides.length).fill(strides[0])))
    return `its strides are ${formatShape(conv.strides)}, not ${formatShape(strides)}`;
  const dilations = [layer.node.args.dilation ?? 1].flat() as number[];
  if (!sameShape(conv.dilations, dilations.length === conv.dilations.length ? dilations : Array(conv.dilations.length).fill(dilations[0])))
    return `its dilations are ${formatShape(conv.dilations)}, not ${formatShape(dilations)}`;
  const out = kernel.shape.at(-1)!;
  const assignment: Assignment[number][] = [
    { decl: kernelDecl, tensor: kernel, status: "reshaped", source: conv.weight, reason: `${conv.node} weight, [out, in, ...k] -> [...k, in, out]` },
  ];
  const biasDecl = decl(layer.node, "bias");
  if (biasDecl)
    assignment.push({
      decl: biasDecl,
      tensor: { shape: [out], values: conv.bias?.values ?? filled(out, 0) },
      status: "mapped",
      source: conv.bias,
      reason: conv.bias ? `${conv.node} bias` : `0: ${conv.node} has no bias`,
    });
  if (layer.bn && conv.bn) return [...assignment, ...batchNormAssignment(layer.bn, conv.bn)];
  if (layer.bn && !biasDecl) return [...assignment, ...foldedAssignment(layer.bn, conv, out)];
  if (conv.bn) return `it is followed by batch norm ${conv.bn.node}, which the spec's \`${layer.node.name}\` is not`;
  if (layer.bn) return `the spec's conv has a bias and a batch norm, ${conv.node} has no batch norm to map`;
  if (!biasDecl && conv.bias?.values.some((v) => v !== 0)) return `it adds a bias, and the spec's \`${layer.node.name}\` has none (bias = false)`;
  return assignment;
}

/** Pairs a spec dense layer with an ONNX Gemm/MatMul, reordering rows after a flatten of a spatial map. */
function matchDense(layer: SpecLayer, dense: OnnxDense, flattened: readonly number[] | undefined): Assignment | string {
  const kernelDecl = decl(layer.node, "kernel")!;
  const [rows, cols] = dense.weight.shape as [number, number];
  const [inputs, units] = dense.transposed ? [cols, rows] : [rows, cols];
  if (!sameShape([inputs, units], kernelDecl.shape))
    return `its weight ${formatShape(dense.weight.shape)} is [${inputs}, ${units}] as [in, out], not ${formatShape(kernelDecl.shape)}`;
  let values = dense.transposed ? transpose(dense.weight.values, rows, cols) : Float32Array.from(dense.weight.values);
  if (dense.alpha !== 1) values = values.map((v) => v * dense.alpha);
  const steps = [dense.transposed ? "[out, in] -> [in, out]" : "[in, out]", ...(dense.alpha !== 1 ? [`times alpha ${dense.alpha}`] : [])];
  if (flattened && flattened.length > 1 && flattened.slice(0, -1).some((d) => d > 1)) {
    // ONNX flattens [C, ...S] (channel-major), vnet [...S, C] (channel-minor).
    const channels = flattened.at(-1)!;
    const positions = inputs / channels;
    const reordered = new Float32Array(values.length);
    for (let s = 0; s < positions; s++)
      for (let c = 0; c < channels; c++)
        reordered.set(values.subarray((c * positions + s) * units, (c * positions + s + 1) * units), (s * channels + c) * units);
    values = reordered;
    steps.push(`rows reordered from channels-first to channels-last flattening of ${formatShape(flattened)}`);
  }
  const assignment: Assignment[number][] = [
    {
      decl: kernelDecl,
      tensor: { shape: [inputs, units], values },
      status: "reshaped",
      source: dense.weight,
      reason: `${dense.node} weight, ${steps.join(", ")}`,
    },
  ];
  const biasDecl = decl(layer.node, "bias");
  if (biasDecl)
    assignment.push({
      decl: biasDecl,
      tensor: { shape: [units], values: dense.bias?.values ?? filled(units, 0) },
      status: "mapped",
      source: dense.bias?.tensor,
      reason: dense.bias ? `${dense.node} bias` : `0: ${dense.node} has no bias`,
    });
  else if (dense.bias?.values.some((v) => v !== 0)) return `it adds a bias, and the spec's \`${layer.node.name}\` has none (bias = false)`;
  return assignment;
}

function match(layer: SpecLayer, candidate: OnnxLayer, flattened: (node: IrNode) => readonly number[] | undefined): Assignment | string {
  if (layer.kind === "conv" && candidate.kind === "conv") return matchConv(layer, candidate);
  if (layer.kind === "bn" && candidate.kind === "bn") {
    const n = decl(layer.node, "gamma")!.shape[0]!;
    return candidate.scale.values.length === n
      ? batchNormAssignment(layer.node, candidate)
      : `it normalises ${candidate.scale.values.length} channels, not ${n}`;
  }
  if (layer.kind === "dense" && candidate.kind === "dense") return matchDense(layer, candidate, flattened(layer.node));
  return `it is a ${candidate.kind}, not a ${layer.kind}`;
}

/** Unpaired spec layers reported one by one; the rest are counted. */
const MAX_LOCATED = 3;

const ONNX_KIND: Readonly<Record<SpecLayer["kind"], string>> = { conv: "Conv", bn: "BatchNormalization", dense: "Gemm or MatMul" };

/** Maps an ONNX model's weights onto a lowered graph's weights by structure. */
export function mapOnnxWeights(graph: IrGraph, model: OnnxModel, options: OnnxImportOptions): WeightMapping {
  const severity = options.partial ? "warning" : "error";
  const { layers, unsupported } = specLayers(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const flattened = (node: IrNode) => {
    const input = byId.get(node.inputs[0]!);
    return input?.op === "flatten" ? byId.get(input.inputs[0]!)?.shape : undefined;
  };
  const diagnostics: Diagnostic[] = [];
  const atNode = (node: IrNode, code: string, message: string, hint?: string, sev: Diagnostic["severity"] = severity): Diagnostic =>
    diagnosticAt(node.origin, code, sev, message, hint);
  const atNetwork = (code: string, message: string, sev: Diagnostic["severity"], hint?: string): Diagnostic =>
    diagnosticAt(options.at, code, sev, message, hint);
  for (const node of unsupported)
    diagnostics.push(atNode(node, "VN105", `importing ONNX weights into \`${node.op}\` layers is not supported (layer \`${node.name}\`)`, undefined, "error"));
  for (const sentence of model.unsupported)
    diagnostics.push({ code: "VN105", severity: "error", message: sentence, file: options.file, range: { start: 0, end: 0 } });

  const entries: WeightEntry[] = [];
  const weights = new Map<string, Tensor>();
  const free = model.layers.map(() => true);
  const unpaired: IrNode[] = [];
  for (const layer of layers) {
    let found: Assignment | undefined;
    const misses: { node: string; why: string; shapeFits: boolean }[] = [];
    for (let k = 0; k < model.layers.length && !found; k++) {
      if (!free[k]) continue;
      const result = match(layer, model.layers[k]!, flattened);
      if (typeof result !== "string") {
        found = result;
        free[k] = false;
      } else if (model.layers[k]!.kind === layer.kind)
        misses.push({ node: model.layers[k]!.node, why: result, shapeFits: !result.startsWith("its weight") && !result.startsWith("it normalises") });
    }
    // The nearest miss: the first candidate of the right shape, else the next candidate of the kind.
    const miss = misses.find((m) => m.shapeFits) ?? misses[0];
    const firstMiss = miss ? `${miss.shapeFits ? "" : "the next unpaired "}${ONNX_KIND[layer.kind]} ${miss.node} does not fit: ${miss.why}` : undefined;
    const nodes = [layer.node, ...(layer.bn ? [layer.bn] : [])];
    if (!found) {
      for (const node of nodes)
        for (const w of node.weights ?? [])
          entries.push({ target: storedWeightName(w), shape: w.shape, status: "initialised", reason: `no ${ONNX_KIND[layer.kind]} of the ONNX model fits` });
      // The first few are located; after one layer is missing the rest usually follow from it.
      unpaired.push(layer.node);
      if (unpaired.length <= MAX_LOCATED)
        diagnostics.push(
          atNode(
            layer.node,
            "VN104",
            `no ${ONNX_KIND[layer.kind]} of the ONNX model is left for layer \`${layer.node.name}\` (${formatShape(decl(layer.node, layer.kind === "bn" ? "gamma" : "kernel")!.shape)})${firstMiss ? `: ${firstMiss}` : ""}`,
            "the spec and the exported model must have the same layers in the same order; --partial leaves unpaired layers at their initialisers",
          ),
        );
      continue;
    }
    for (const a of found) {
      const target = storedWeightName(a.decl);
      weights.set(target, a.tensor);
      entries.push({
        target,
        shape: a.decl.shape,
        status: a.status,
        ...(a.source ? { source: a.source.name, sourceShape: a.source.shape } : {}),
        reason: a.reason,
      });
    }
  }
  if (unpaired.length > MAX_LOCATED)
    diagnostics.push(
      atNetwork(
        "VN104",
        `${unpaired.length - MAX_LOCATED} more layers of ${graph.name} pair with no ONNX layer: ${unpaired
          .slice(MAX_LOCATED, MAX_LOCATED + 3)
          .map((n) => `\`${n.name}\``)
          .join(", ")}${unpaired.length > MAX_LOCATED + 3 ? ", ..." : ""}`,
        severity,
      ),
    );
  const leftOver = model.layers.filter((_, k) => free[k]);
  const tensorsOf = (l: OnnxLayer): OnnxTensor[] =>
    l.kind === "conv"
      ? [l.weight, ...(l.bias ? [l.bias] : []), ...(l.bn ? tensorsOf(l.bn) : [])]
      : l.kind === "bn"
        ? [l.scale, l.bias, l.mean, l.variance]
        : [l.weight, ...(l.bias ? [l.bias.tensor] : [])];
  const unused: UnusedSource[] = [
    ...leftOver.flatMap((l) => tensorsOf(l).map((t) => ({ source: t.name, shape: t.shape, reason: `${l.node} pairs with no layer of ${graph.name}` }))),
    ...model.unused.map((t) => ({ source: t.name, shape: t.shape, reason: "read by no Conv, BatchNormalization, Gemm or MatMul" })),
  ];
  if (leftOver.length)
    diagnostics.push(
      atNetwork(
        "VN104",
        `${leftOver.length} weighted ONNX layer${leftOver.length === 1 ? "" : "s"} pair${leftOver.length === 1 ? "s" : ""} with no layer of ${graph.name}: ${leftOver
          .slice(0, 3)
          .map((l) => l.node)
          .join(", ")}${leftOver.length > 3 ? ", ..." : ""}`,
        severity,
        "the spec must have every weighted layer of the exported model; --partial imports the layers that pair",
      ),
    );
  if (model.unused.length)
    diagnostics.push(
      atNetwork(
        "VN106",
        `${model.unused.length} float tensor${model.unused.length === 1 ? "" : "s"} of the ONNX model ${model.unused.length === 1 ? "is" : "are"} read by no weighted layer: ${model.unused
          .slice(0, 3)
          .map((t) => t.name)
          .join(", ")}${model.unused.length > 3 ? ", ..." : ""}`,
        "warning",
      ),
    );
  return { weights, report: { entries, unused, diagnostics } };
}

/**
 * Where the ONNX model's inputs cannot be the spec's model inputs (the tensors its layers read:
 * the normalised clip, not the raw one): another number of inputs, another rank, or other channels
 * (ONNX channels-first, batch first; symbolic dimensions fit anything). A clip of another length
 * or frame size can be: the weights do not depend on it, and the parity check runs at the file's
 * own shapes (import-file.ts).
 */
export function inputMismatches(graph: IrGraph, model: OnnxModel): string[] {
  if (model.inputs.length !== graph.modelInputs.length)
    return [`the ONNX model has ${model.inputs.length} input${model.inputs.length === 1 ? "" : "s"}, ${graph.name} reads ${graph.modelInputs.length}`];
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return graph.modelInputs.flatMap((input, k) => {
    const theirs = model.inputs[k]!;
    if (theirs.shape.length === 0) return []; // no shape recorded
    const shape = byId.get(input.node)!.shape;
    const channels = shape.at(-1)!;
    const fits = theirs.shape.length === shape.length + 1 && (theirs.shape[1] === undefined || theirs.shape[1] === channels);
    return fits
      ? []
      : [
          `ONNX input ${theirs.name} is [${theirs.shape.map((d) => d ?? "?").join(", ")}]; ${graph.name}'s input ${input.name} [${shape.join(", ")}] needs [N, ${channels}, ${shape
            .slice(0, -1)
            .map(() => "...")
            .join(", ")}] channels-first`,
        ];
  });
}
