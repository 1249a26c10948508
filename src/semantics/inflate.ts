/**
 * Inflation (Carreira & Zisserman 2017): derive a 3D network from a 2D one. Every conv2d becomes a
 * conv3d and every 2D pool a 3D pool, with a temporal extent of 1 unless a rule says otherwise;
 * rules match layers by hierarchical name with globs. The result keeps the 2D layer names so
 * trained 2D weights map onto it one to one.
 */
import type { Range } from "../diagnostics/diagnostic.js";
import { OPERATORS, isInferError, type Args } from "../ops/catalogue.js";
import type { ArgValue } from "../ops/values.js";
import type * as A from "../syntax/ast.js";
import { validateSection, type Report } from "./arguments.js";
import type { CheckedNetwork, Layer, NetworkInput } from "./network.js";
import type { Module } from "./program.js";
import type { Definition } from "./scope.js";
import { INFLATE_RULE, INFLATE_SETTINGS } from "./sections.js";
import { closest } from "./suggest.js";
import type { Value } from "./values.js";

/** Operators inflation maps to another operator. */
const INFLATED_OP: Readonly<Record<string, string>> = {
  conv2d: "conv3d",
  maxpool2d: "maxpool3d",
  avgpool2d: "avgpool3d",
};

/** Operators that work unchanged on clips. */
const RANK_AGNOSTIC = new Set([
  "bn",
  "relu",
  "sigmoid",
  "tanh",
  "softmax",
  "swish",
  "hard_sigmoid",
  "hard_swish",
  "gelu",
  "dropout",
  "lrn",
  "add",
  "mul",
  "concat",
  "slice",
  "global_avg_pool",
  "global_max_pool",
  "flatten",
  "dense",
  "nonlocal",
]);

/** Converts a glob to a regular expression: `*` within a name segment, `**` across segments, `{a,b}` alternatives. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${globSource(glob)}$`);
}

/** Regular-expression source for a glob; alternatives inside `{}` are globs themselves. */
function globSource(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      out += ".*";
      i++;
    } else if (c === "*") out += "[^.]*";
    else if (c === "?") out += "[^.]";
    else if (c === "{") {
      const close = glob.indexOf("}", i);
      if (close < 0) out += "\\{";
      else {
        out += `(?:${glob
          .slice(i + 1, close)
          .split(",")
          .map(globSource)
          .join("|")})`;
        i = close;
      }
    } else out += c.replace(/[.+^$()|[\]\\]/g, "\\$&");
  }
  return out;
}

interface Rule {
  readonly pattern: string;
  readonly regex: RegExp;
  readonly range: Range;
  readonly settings: Record<string, unknown>;
  matched: number;
  matchedTemporal: number;
}

export interface InflateRequest {
  /** Reports in the inflating network's file. */
  readonly report: Report;
  /** What the inflation source's name refers to (undefined: nothing; no definition: a broken import). */
  readonly source: { readonly definition: Definition | undefined } | undefined;
  /** Names of the networks the inflating file can see (for "did you mean"). */
  readonly networksIn: () => string[];
  /** Checks the source network, with the inflating network's bindings (`classes`) overriding its own. */
  readonly checkSource: (decl: A.NetworkDecl, module: Module, overrides: ReadonlyMap<string, Value>) => CheckedNetwork | undefined;
  readonly moduleOf: (file: string) => Module;
  readonly decl: A.NetworkDecl;
  readonly inflate: A.InflateDecl;
  readonly inputs: readonly NetworkInput[];
  readonly layers: readonly Layer[];
  readonly classes: number | undefined;
  /** Evaluates a setting's expression in the inflating network's scope. */
  readonly evaluate: (e: A.Expr) => Value;
}

/** Inflates the 2D network an `inflate` statement names; undefined when it cannot (reported). */
export function inflateNetwork(request: InflateRequest): { layers: Layer[]; outputs: number[] } | undefined {
  const { inflate, report } = request;
  const source = request.source?.definition;
  if (!source || source.kind !== "network") {
    const guess = closest(inflate.source.name, request.networksIn());
    report(
      "VN052",
      source ? `\`${inflate.source.name}\` is a ${source.kind}, not a network` : `no network named \`${inflate.source.name}\` to inflate`,
      inflate.source.range,
      guess ? `did you mean \`${guess}\`?` : "define or import the 2D network first",
    );
    return undefined;
  }
  const overrides = new Map<string, Value>();
  if (request.classes !== undefined) overrides.set("classes", { t: "num", v: request.classes });
  const source2d: CheckedNetwork | undefined = request.checkSource(source.node as A.NetworkDecl, request.moduleOf(source.file), overrides);
  if (!source2d) {
    report("VN052", `\`${inflate.source.name}\` could not be checked, so it cannot be inflated`, inflate.source.range);
    return undefined;
  }
  const sourceInputs = source2d.inputs.filter((i) => i.kind === "input");
  if (sourceInputs.length !== 1 || sourceInputs[0]!.shape.length !== 3 || source2d.inputs.some((i) => i.kind === "stream")) {
    report("VN052", `\`${inflate.source.name}\` is not a 2D network: inflation needs exactly one \`image(...)\` input and no streams`, inflate.source.range);
    return undefined;
  }
  const target = request.inputs[request.inputs.length - 1];
  if (!target || target.shape.length !== 4) {
    report("VN052", "an inflated network needs a clip input: `input video = clip(frames = 8, size = 224)`", inflate.range);
    return undefined;
  }

  const settingsSection: A.Section = {
    kind: "Section",
    name: { kind: "Ident", name: "inflate", range: inflate.source.range },
    entries: inflate.entries.filter((e): e is A.Binding => e.kind === "Binding"),
    range: inflate.range,
  };
  const evaluate = request.evaluate;
  const settings = validateSection(settingsSection, INFLATE_SETTINGS, evaluate, report);
  const rules: Rule[] = [];
  for (const entry of inflate.entries) {
    if (entry.kind !== "Rule") continue;
    const ruleSection: A.Section = {
      kind: "Section",
      name: { kind: "Ident", name: "rule", range: entry.pattern.range },
      entries: entry.bindings,
      range: entry.range,
    };
    const ruleSettings = validateSection(ruleSection, INFLATE_RULE, evaluate, report);
    rules.push({
      pattern: entry.pattern.value,
      regex: globToRegExp(entry.pattern.value),
      range: entry.pattern.range,
      settings: ruleSettings,
      matched: 0,
      matchedTemporal: 0,
    });
  }

  const layers: Layer[] = [...request.layers];
  let nextId = layers.reduce((m, l) => (l.body ?? []).reduce((n, b) => Math.max(n, b.id), Math.max(m, l.id)), -1) + 1;
  const idMap = new Map<number, number>([[sourceInputs[0]!.layer, target.layer]]);
  const shapes = new Map<number, readonly number[]>(layers.map((l) => [l.id, l.shape]));
  const sourceShapes = new Map<number, readonly number[]>(source2d.layers.map((l) => [l.id, l.shape]));
  let failed = false;
  for (const layer of source2d.layers) {
    if (layer.op === "input") continue;
    const matching = rules.filter((r) => r.regex.test(layer.name));
    for (const r of matching) r.matched++;
    const settingsFor: Record<string, unknown> = Object.assign({}, ...matching.map((r) => r.settings));
    const blame = matching.length ? matching[matching.length - 1]!.range : inflate.source.range;
    const newOp = INFLATED_OP[layer.op];
    if (!newOp && !RANK_AGNOSTIC.has(layer.op)) {
      report(
        "VN052",
        `layer \`${layer.name}\` (${layer.op}) of \`${inflate.source.name}\` has no 3D form, so the network cannot be inflated`,
        inflate.source.range,
      );
      return undefined;
    }
    let args: Args = layer.args;
    let inflated: Layer["inflated"];
    if (newOp) {
      for (const r of matching) r.matchedTemporal++;
      const isConv = layer.op === "conv2d";
      const kt = (settingsFor.kernel as number | undefined) ?? 1;
      const st = (settingsFor.stride as number | undefined) ?? 1;
      const pt = (settingsFor.pad as number | undefined) ?? (isConv ? Math.floor(kt / 2) : 0);
      const two = (v: ArgValue | undefined, fallback: number) => (Array.isArray(v) ? (v as number[]) : [v ?? fallback, v ?? fallback]) as number[];
      const pad = layer.args.pad === "same" || layer.args.pad === "valid" ? layer.args.pad : [pt, ...two(layer.args.pad, 0)];
      args = {
        ...layer.args,
        kernel: [kt, ...two(layer.args.kernel, 1)],
        stride: [st, ...two(layer.args.stride ?? layer.args.kernel, 1)],
        pad,
        ...(isConv ? { dilation: [1, ...two(layer.args.dilation, 1)] } : {}),
      };
      inflated = {
        from: layer.op,
        temporalKernel: kt,
        init: ((settingsFor.init as string | undefined) ?? (settings.init as string)) === "center" ? "center" : "repeat",
      };
    }
    const op = OPERATORS.get(newOp ?? layer.op)!;
    const inputIds = layer.inputs.map((i) => idMap.get(i));
    if (inputIds.some((i) => i === undefined)) return undefined;
    const inputShapes = inputIds.map((i) => shapes.get(i!)!);
    const result = op.infer(inputShapes, args);
    if (isInferError(result)) {
      report(result.code, `after inflation, layer \`${layer.name}\`: ${result.error}`, blame, result.hint);
      failed = true;
      break;
    }
    if (layer.op === "dense") {
      const before = sourceShapes.get(layer.inputs[0]!)!;
      const after = inputShapes[0]!;
      if (before[before.length - 1] !== after[after.length - 1]) {
        report(
          "VN053",
          `inflation changes the input width of dense layer \`${layer.name}\` from ${before[before.length - 1]} to ${after[after.length - 1]}, so its 2D weights cannot carry over`,
          inflate.source.range,
          "pool over time before flattening (global_avg_pool), or give the last pool a temporal extent that reduces time to 1",
        );
        failed = true;
        break;
      }
    }
    const id = nextId++;
    idMap.set(layer.id, id);
    shapes.set(id, result.shape);
    layers.push({
      ...layer,
      id,
      op: newOp ?? layer.op,
      args,
      inputs: inputIds as number[],
      shape: result.shape,
      params: result.params,
      state: result.state ?? 0,
      macs: result.macs,
      ...(inflated ? { inflated } : {}),
    });
  }
  for (const rule of rules) {
    if (rule.matched === 0) {
      const names = source2d.layers.filter((l) => l.op !== "input").map((l) => l.name);
      const guess = closest(rule.pattern, names);
      report(
        "VN050",
        `inflation rule "${rule.pattern}" matches no layer of \`${inflate.source.name}\``,
        rule.range,
        guess ? `did you mean "${guess}"?` : `layer names look like "${names.find((n) => n.includes(".")) ?? names[0] ?? ""}"; \`vnet summary\` lists them`,
      );
    } else if (rule.matchedTemporal === 0 && Object.keys(rule.settings).some((k) => k !== "init")) {
      report(
        "VN051",
        `inflation rule "${rule.pattern}" matches only layers without a temporal extent (no conv2d or 2D pool)`,
        rule.range,
        "rules give convs and pools their temporal kernel; point the pattern at those layers",
      );
    }
  }
  if (failed) return undefined;
  const outputs = source2d.outputs.map((o) => idMap.get(o)!).filter((o) => o !== undefined);
  return { layers, outputs };
}
