/**
 * Freezing: which layers' weights training must leave as they are. A layer is frozen when it is
 * inside `per_frame(freeze = true)`, when its call (or the call of a block it is part of) says
 * `freeze = true`, or when `training { freeze = [...] }` names it or a group holding it by an `as`
 * name glob. Frozen layers' weights are not trainable in the IR, so both backends and both training
 * engines keep them fixed (and a frozen batch norm uses its moving statistics), while weight import
 * still fills them.
 */
import type { Range } from "../diagnostics/diagnostic.js";
import type * as A from "../syntax/ast.js";
import { closest } from "./suggest.js";
import { globToRegExp } from "./inflate.js";
import type { Layer } from "./network.js";

/** The argument, accepted by every operator and block call, that freezes what the call makes. */
export const FREEZE_ARGUMENT = "freeze";

export interface FreezePattern {
  readonly pattern: string;
  readonly range: Range;
}

/** The patterns of the network's `training { freeze = [...] }`, with their source ranges. */
export function freezePatterns(network: A.NetworkDecl): FreezePattern[] {
  const patterns: FreezePattern[] = [];
  for (const statement of network.body) {
    if (statement.kind !== "Section" || statement.name.name !== "training") continue;
    for (const entry of statement.entries) {
      if (entry.kind !== "Binding" || entry.names[0]?.name !== FREEZE_ARGUMENT || entry.value.kind !== "List") continue;
      for (const item of entry.value.items) if (item.kind === "String") patterns.push({ pattern: item.value, range: item.range });
    }
  }
  return patterns;
}

/** Whether `name` or one of the groups holding it (`layer1.0` of `layer1.0.conv1`) matches. */
function matches(regex: RegExp, name: string): boolean {
  const parts = name.split(".");
  for (let n = 1; n <= parts.length; n++) if (regex.test(parts.slice(0, n).join("."))) return true;
  return false;
}

/**
 * Marks the layers the patterns name as frozen (inside per_frame bodies too, by their full names);
 * reports a pattern that names no layer. Returns the layers, unchanged where nothing matched.
 */
export function freezeByPatterns(
  layers: readonly Layer[],
  patterns: readonly FreezePattern[],
  report: (message: string, range: Range, hint: string) => void,
): readonly Layer[] {
  if (patterns.length === 0) return layers;
  const rules = patterns.map((p) => ({ ...p, regex: globToRegExp(p.pattern), matched: 0 }));
  const names = new Set<string>();
  const visit = (list: readonly Layer[], prefix: string): Layer[] =>
    list.map((layer) => {
      if (layer.op === "input") return layer;
      const name = prefix ? `${prefix}.${layer.name}` : layer.name;
      name.split(".").forEach((_, n, parts) => names.add(parts.slice(0, n + 1).join(".")));
      let hit = false;
      for (const rule of rules) {
        if (matches(rule.regex, name)) {
          rule.matched++;
          hit = true;
        }
      }
      const body = layer.body ? visit(layer.body, name) : undefined;
      if (!hit && body === layer.body) return layer;
      return { ...layer, frozen: layer.frozen || hit, ...(body ? { body } : {}) };
    });
  const result = visit(layers, "");
  for (const rule of rules) {
    if (rule.matched > 0) continue;
    const guess = closest(rule.pattern, names);
    report(
      `\`freeze\` pattern "${rule.pattern}" matches no layer`,
      rule.range,
      guess ? `did you mean "${guess}"?` : `layer names look like "${[...names].find((n) => n.includes(".")) ?? ""}"; \`vnet summary\` lists them`,
    );
  }
  return result;
}
