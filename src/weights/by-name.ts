/**
 * Weights mapped by name onto a spec's lowered graph: weight inflation (`vnet inflate`) and
 * starting weights (`vnet train --init`).
 *
 * Inflation (Carreira & Zisserman 2017, "Quo Vadis"): spec-level inflation keeps the 2D layer
 * names, so each weight of the 3D network has a 2D weight of the same name. A conv kernel
 * [kh, kw, in, out] becomes [kt, kh, kw, in, out], repeated over its kt frames and divided by kt
 * (`init = "repeat"`: a video of one repeated frame then gives the 2D responses wherever no zero
 * padding reaches) or put at the centre frame with zeros elsewhere (`init = "center"`: the same
 * responses at every frame); batch norm, dense and every other weight is copied. Every weight of
 * an inflated network must come from the 2D weights.
 *
 * `--init`: every weight whose name and shape match is loaded; weights the source lacks stay at
 * their initialisers (a new head, say).
 *
 * In both, a shape that does not fit is an error at the layer (which keeps its source range)
 * unless `partial` is set, and a source none of whose weights fits is another network's.
 * Pure functions of the graph and the source weights; file IO is the caller's.
 */
import { diagnosticAt, type Diagnostic } from "../diagnostics/diagnostic.js";
import { storedWeightName, weightedNodes } from "../ir/weights.js";
import type { IrGraph, IrNode, WeightDecl } from "../ir/graph.js";
import type { Origin } from "../semantics/network.js";
import type { UnusedSource, WeightEntry, WeightReport } from "./report.js";
import type { NamedTensors, Tensor } from "../runtime/checkpoint.js";
import { formatShape, sameShape } from "./tensors.js";

export interface ByNameOptions {
  /** Inflation: 2D kernels become 3D ones, and a missing weight is an error. */
  readonly inflate: boolean;
  /** Misfitting (and, inflating, missing) source weights leave the target at its initialiser: warnings, not errors. */
  readonly partial?: boolean;
  /** Where network-level problems are reported: the target network's declaration. */
  readonly at: Origin;
  /** What the source is, for messages: "the 2D weights of tiny_cnn_2d", "the --init weights". */
  readonly source: string;
}

export interface WeightMapping {
  /** Target weights by tfjs name; the ones left out stay at their initialisers. */
  readonly weights: Map<string, Tensor>;
  readonly report: WeightReport;
}

/** A 2D kernel [...k, in, out] as a 3D one [kt, ...k, in, out]: repeated and divided by kt, or at the centre frame. */
export function inflateKernel(kernel: Tensor, kt: number, init: "repeat" | "center"): Tensor {
  const size = kernel.values.length;
  const values = new Float32Array(kt * size);
  if (init === "center") values.set(kernel.values, Math.floor(kt / 2) * size);
  else {
    const scaled = kernel.values.map((v) => v / kt);
    for (let t = 0; t < kt; t++) values.set(scaled, t * size);
  }
  return { shape: [kt, ...kernel.shape], values };
}

/** True for a 3D kernel whose 2D form is `source`: one more (leading, temporal) axis. */
function isInflatedKernel(decl: WeightDecl, source: readonly number[]): boolean {
  return decl.role === "kernel" && decl.shape.length === source.length + 1 && sameShape(decl.shape.slice(1), source);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Maps source weights onto a lowered graph's weights by name (inflating 2D kernels when asked). */
export function mapWeightsByName(graph: IrGraph, source: NamedTensors, options: ByNameOptions): WeightMapping {
  const severity = options.partial ? "warning" : "error";
  const entries: WeightEntry[] = [];
  const weights = new Map<string, Tensor>();
  const pending: Diagnostic[] = [];
  const used = new Set<string>();
  const missing: string[] = [];
  const at = (node: IrNode, code: string, message: string, hint: string): Diagnostic => diagnosticAt(node.origin, code, severity, message, hint);
  for (const node of weightedNodes(graph)) {
    for (const decl of node.weights!) {
      const name = storedWeightName(decl);
      const from = source.get(name);
      if (!from) {
        entries.push({ target: name, shape: decl.shape, status: "initialised", reason: `not in ${options.source}` });
        missing.push(name);
        if (options.inflate)
          pending.push(
            at(
              node,
              "VN101",
              `${options.source} have no \`${name}\` for layer \`${node.name}\` ${formatShape(decl.shape)}`,
              "--partial leaves missing weights at their initialisers",
            ),
          );
        continue;
      }
      used.add(name);
      if (options.inflate && isInflatedKernel(decl, from.shape)) {
        const kt = decl.shape[0]!;
        const init = node.inflated?.init ?? "repeat";
        weights.set(name, inflateKernel(from, kt, init));
        const how =
          kt === 1
            ? "given a temporal axis of 1"
            : init === "center"
              ? `placed at frame ${Math.floor(kt / 2)} of ${kt}, zeros elsewhere (init = "center")`
              : `repeated over ${kt} frames and divided by ${kt} (init = "repeat")`;
        entries.push({ target: name, shape: decl.shape, status: "reshaped", source: name, sourceShape: from.shape, reason: how });
      } else if (sameShape(decl.shape, from.shape)) {
        weights.set(name, from);
        entries.push({ target: name, shape: decl.shape, status: "mapped", source: name, sourceShape: from.shape, reason: `copied (${decl.role})` });
      } else {
        entries.push({
          target: name,
          shape: decl.shape,
          status: "initialised",
          source: name,
          sourceShape: from.shape,
          reason: `shape ${formatShape(from.shape)} does not fit`,
        });
        const wants =
          options.inflate && decl.role === "kernel" && decl.shape.length === from.shape.length + 1
            ? `${formatShape(decl.shape.slice(1))} (inflated to ${formatShape(decl.shape)})`
            : formatShape(decl.shape);
        const outputs =
          node.op === "dense" && from.shape.at(-1) !== decl.shape.at(-1)
            ? `; the source was trained for ${from.shape.at(-1)} outputs, the spec has ${decl.shape.at(-1)}`
            : "";
        const hint =
          !options.inflate && decl.shape.length === from.shape.length + 1
            ? "2D weights for a 3D network? inflate them first: vnet inflate <spec> --from <2d-checkpoint> -o <dir>"
            : "--partial leaves misfitting weights at their initialisers";
        pending.push(
          at(node, "VN102", `\`${name}\` is ${formatShape(from.shape)} in ${options.source}; layer \`${node.name}\` needs ${wants}${outputs}`, hint),
        );
      }
    }
  }
  const unused: UnusedSource[] = [...source]
    .filter(([name]) => !used.has(name))
    .map(([name, t]) => ({ source: name, shape: t.shape, reason: `no weight of ${graph.name} has this name` }));
  const diagnostics: Diagnostic[] = [];
  const network = (code: string, sev: Diagnostic["severity"], message: string, hint?: string): Diagnostic => diagnosticAt(options.at, code, sev, message, hint);
  if (weights.size === 0 && entries.length > 0) {
    const theirs = [...source.keys()].slice(0, 2).join("`, `");
    diagnostics.push(
      network(
        "VN103",
        "error",
        `none of the ${plural(source.size, "tensor")} of ${options.source} fits ${graph.name}: they belong to another network`,
        `${graph.name} has weights like \`${entries[0]!.target}\`; the source has \`${theirs}\``,
      ),
    );
  } else {
    diagnostics.push(...pending);
    if (!options.inflate && missing.length)
      diagnostics.push(
        network(
          "VN101",
          "warning",
          `${plural(missing.length, "weight")} of ${graph.name} not in ${options.source} stay at their initialisers: ${missing
            .slice(0, 3)
            .map((m) => `\`${m}\``)
            .join(", ")}${missing.length > 3 ? ", ..." : ""}`,
        ),
      );
    if (unused.length)
      diagnostics.push(
        network(
          "VN106",
          "warning",
          `${plural(unused.length, "tensor")} of ${options.source} not used by ${graph.name}: ${unused
            .slice(0, 3)
            .map((u) => `\`${u.source}\``)
            .join(", ")}${unused.length > 3 ? ", ..." : ""}`,
        ),
      );
  }
  return { weights, report: { entries, unused, diagnostics } };
}
