/**
 * Argument checking: an operator call's arguments against the catalogue's parameters, a block
 * call's against the block's parameters, and a section's settings against its schema. Each
 * value is checked against its declared type and range and normalised to an operator argument.
 */
import type { Code } from "../diagnostics/codes.js";
import type { Range } from "../diagnostics/diagnostic.js";
import type { Args, ParamSpec } from "../ops/catalogue.js";
import type { ArgValue } from "../ops/values.js";
import type * as A from "../syntax/ast.js";
import type { SectionValue } from "./network.js";
import type { Field, Schema } from "./sections.js";
import { closest, didYouMean } from "./suggest.js";
import { containsError, show, type Value } from "./values.js";

/** Reports a problem in the file being checked. */
export type Report = (code: Code, message: string, range: Range, hint?: string) => void;

type ArgProblem = { problem: string; code: "VN014" | "VN015"; hint?: string };

function isProblem(checked: ArgValue | ArgProblem): checked is ArgProblem {
  return typeof checked === "object" && checked !== null && !Array.isArray(checked) && "problem" in checked;
}

/** Checks one operator argument against its parameter type; returns the normalised value or a problem. */
export function checkArgument(spec: ParamSpec, value: Value): ArgValue | ArgProblem {
  const type = spec.type;
  const wrong = (expected: string, hint?: string): ArgProblem => ({
    problem: `\`${spec.name}\` expects ${expected}, got ${show(value)}`,
    code: "VN014",
    ...(hint ? { hint } : {}),
  });
  const isInt = (v: Value): v is { t: "num"; v: number } => v.t === "num" && Number.isInteger(v.v);
  switch (type.kind) {
    case "int":
      if (!isInt(value)) return wrong("an integer", value.t === "num" ? "wrap the arithmetic in `floor(...)`" : undefined);
      if (type.min !== undefined && value.v < type.min) return { problem: `\`${spec.name}\` must be at least ${type.min}, got ${value.v}`, code: "VN015" };
      if (type.max !== undefined && value.v > type.max) return { problem: `\`${spec.name}\` must be at most ${type.max}, got ${value.v}`, code: "VN015" };
      if (value.v > 2 ** 31) return { problem: `\`${spec.name}\` = ${value.v} is too large`, code: "VN015" };
      return value.v;
    case "number":
      if (value.t !== "num") return wrong("a number");
      if (type.min !== undefined && (type.exclusiveMin ? value.v <= type.min : value.v < type.min))
        return { problem: `\`${spec.name}\` must be ${type.exclusiveMin ? "greater than" : "at least"} ${type.min}, got ${value.v}`, code: "VN015" };
      if (type.max !== undefined && value.v > type.max) return { problem: `\`${spec.name}\` must be at most ${type.max}, got ${value.v}`, code: "VN015" };
      return value.v;
    case "bool":
      if (value.t !== "bool") return wrong("true or false");
      return value.v;
    case "enum":
      if (value.t !== "str") return wrong(`one of ${type.values.map((v) => `"${v}"`).join(", ")}`, value.t === "num" ? undefined : "enumerations are strings");
      if (!type.values.includes(value.v)) {
        const hint = didYouMean(value.v, type.values);
        return {
          problem: `\`${spec.name}\` must be one of ${type.values.map((v) => `"${v}"`).join(", ")}, got "${value.v}"`,
          code: "VN015",
          ...(hint ? { hint } : {}),
        };
      }
      return value.v;
    case "ints":
    case "padding": {
      if (type.kind === "padding" && value.t === "str") {
        if (value.v === "same" || value.v === "valid") return value.v;
        return {
          problem: `\`${spec.name}\` must be an integer, a list, "same" or "valid", got "${value.v}"`,
          code: "VN015",
          ...(didYouMean(value.v, ["same", "valid"]) ? { hint: didYouMean(value.v, ["same", "valid"])! } : {}),
        };
      }
      const min = type.kind === "ints" ? (type.min ?? 1) : 0;
      const items = value.t === "list" ? value.items : [value];
      const wanted = (type as { length?: number }).length;
      if (value.t === "list" && wanted !== undefined && items.length !== wanted) {
        const axes = type.length === 3 ? "[t, h, w]" : "[h, w]";
        return { problem: `\`${spec.name}\` needs one integer or ${type.length} integers ${axes}, got ${items.length}`, code: "VN015" };
      }
      for (const item of items) {
        if (!isInt(item)) return wrong(`an integer or a list of ${type.length} integers`);
        if (item.v < min) return { problem: `\`${spec.name}\` values must be at least ${min}, got ${item.v}`, code: "VN015" };
        if (item.v > 2 ** 20) return { problem: `\`${spec.name}\` = ${item.v} is too large`, code: "VN015" };
      }
      return value.t === "list" ? items.map((i) => (i as { v: number }).v) : (value as { v: number }).v;
    }
    case "numbers": {
      const items = value.t === "list" ? value.items : [value];
      if (items.length === 0 || items.some((i) => i.t !== "num")) return wrong("a number or a list of numbers");
      return items.map((i) => (i as { v: number }).v);
    }
    case "strings": {
      if (value.t !== "list" || value.items.some((i) => i.t !== "str")) return wrong("a list of strings");
      return value.items.map((i) => (i as { v: string }).v);
    }
  }
}

/** The positional argument that fills parameter `name`, if any. */
export function positionalFor(params: readonly ParamSpec[], args: readonly A.Argument[], name: string): A.Argument | undefined {
  const index = params.findIndex((p) => p.name === name);
  const positional = args.filter((a) => !a.name);
  return index >= 0 ? positional[index] : undefined;
}

/**
 * An operator call's arguments, checked and with defaults filled in; undefined when any is wrong
 * (each problem reported once: a misspelt parameter is not also reported as the one it meant).
 */
export function resolveOperatorArgs(
  opName: string,
  params: readonly ParamSpec[],
  stage: A.CallStage,
  evaluate: (e: A.Expr) => Value,
  report: Report,
): Args | undefined {
  const args = stage.args ?? [];
  const result: Record<string, ArgValue | undefined> = {};
  const seen = new Set<string>();
  const suggested = new Set<string>();
  let ok = true;
  let positional = 0;
  for (const arg of args) {
    let spec: ParamSpec | undefined;
    if (arg.name) {
      spec = params.find((p) => p.name === arg.name!.name);
      if (!spec) {
        const guess = closest(
          arg.name.name,
          params.map((p) => p.name),
        );
        if (guess) suggested.add(guess);
        report(
          "VN012",
          `\`${opName}\` has no parameter \`${arg.name.name}\``,
          arg.name.range,
          guess ? `did you mean \`${guess}\`?` : params.length ? `parameters: ${params.map((p) => p.name).join(", ")}` : `\`${opName}\` takes no arguments`,
        );
        ok = false;
        continue;
      }
    } else {
      spec = params[positional++];
      if (!spec) {
        report(
          "VN017",
          `\`${opName}\` takes ${params.length} positional argument(s), got ${args.filter((a) => !a.name).length}`,
          arg.range,
          params.length ? `parameters in order: ${params.map((p) => p.name).join(", ")}` : undefined,
        );
        ok = false;
        continue;
      }
    }
    if (seen.has(spec.name)) {
      report("VN016", `\`${spec.name}\` is given twice`, arg.range);
      ok = false;
      continue;
    }
    seen.add(spec.name);
    const value = evaluate(arg.value);
    if (containsError(value)) {
      ok = false;
      continue;
    }
    const checked = checkArgument(spec, value);
    if (isProblem(checked)) {
      report(checked.code, `\`${opName}\`: ${checked.problem}`, arg.value.range, checked.hint);
      ok = false;
      continue;
    }
    result[spec.name] = checked;
  }
  for (const spec of params) {
    if (seen.has(spec.name)) continue;
    if (spec.default === undefined) {
      ok = false;
      if (suggested.has(spec.name)) continue;
      report(
        "VN013",
        `\`${opName}\` needs \`${spec.name}\` (${spec.doc.replace(/\.$/, "")})`,
        stage.callee.range,
        `\`${opName}(${params
          .filter((p) => p.default === undefined)
          .map((p) => `${p.name} = ...`)
          .join(", ")})\``,
      );
    } else if (spec.default !== null) result[spec.name] = spec.default;
  }
  return ok ? result : undefined;
}

/**
 * A block call's arguments matched to the block's parameters, in parameter order: `bind` gets
 * each parameter's value (a default is evaluated by `evaluateDefault` after the parameters
 * before it are bound). False when any argument is wrong.
 */
export function bindBlockArguments(
  block: A.BlockDecl,
  stage: A.CallStage,
  evaluateArg: (e: A.Expr) => Value,
  evaluateDefault: (e: A.Expr) => Value,
  bind: (param: A.Param, value: Value) => void,
  report: Report,
): boolean {
  const args = stage.args ?? [];
  const params = block.params;
  let ok = true;
  const given = new Map<string, Value>();
  let positional = 0;
  for (const arg of args) {
    const value = evaluateArg(arg.value);
    if (arg.name) {
      if (!params.some((p) => p.name.name === arg.name!.name)) {
        report(
          "VN012",
          `block \`${block.name.name}\` has no parameter \`${arg.name.name}\``,
          arg.name.range,
          didYouMean(
            arg.name.name,
            params.map((p) => p.name.name),
          ) ?? `parameters: ${params.map((p) => p.name.name).join(", ") || "none"}`,
        );
        ok = false;
        continue;
      }
      if (given.has(arg.name.name)) {
        report("VN016", `\`${arg.name.name}\` is given twice`, arg.name.range);
        ok = false;
        continue;
      }
      given.set(arg.name.name, value);
    } else {
      const param = params[positional++];
      if (!param) {
        report(
          "VN017",
          `block \`${block.name.name}\` takes ${params.length} argument(s), got ${args.filter((a) => !a.name).length}`,
          arg.range,
          params.length ? `parameters in order: ${params.map((p) => p.name.name).join(", ")}` : undefined,
        );
        ok = false;
        continue;
      }
      given.set(param.name.name, value);
    }
    if (value.t === "tensor" || (value.t === "list" && value.items.some((i) => i.t === "tensor"))) {
      report("VN014", "tensors flow into a block with `->`, not as arguments", arg.range, "`[a, b] -> block(...)` passes two input tensors");
      ok = false;
    }
  }
  for (const param of params) {
    let value = given.get(param.name.name);
    if (value === undefined) {
      if (!param.defaultValue) {
        report(
          "VN013",
          `block \`${block.name.name}\` needs \`${param.name.name}\``,
          stage.callee.range,
          `pass it: \`${block.name.name}(${param.name.name} = ...)\``,
        );
        ok = false;
        value = { t: "err" };
      } else value = evaluateDefault(param.defaultValue);
    }
    bind(param, value);
  }
  return ok;
}

/** Validates a section's entries against its schema and fills in defaults. */
export function validateSection(section: A.Section, schema: Schema, evaluate: (e: A.Expr) => Value, report: Report): Record<string, SectionValue> {
  const out: Record<string, SectionValue> = {};
  const seen = new Set<string>();
  for (const entry of section.entries) {
    const key = entry.kind === "Binding" ? entry.names[0]! : entry.name;
    if (!key.name) continue;
    const field: Field | undefined = Object.hasOwn(schema, key.name) ? schema[key.name] : undefined;
    if (!field) {
      report(
        "VN019",
        `\`${section.name.name}\` has no setting \`${key.name}\``,
        key.range,
        didYouMean(key.name, Object.keys(schema)) ?? `settings: ${Object.keys(schema).join(", ")}`,
      );
      continue;
    }
    if (seen.has(key.name)) {
      report("VN016", `\`${key.name}\` is set twice`, key.range);
      continue;
    }
    seen.add(key.name);
    if (field.type.kind === "section") {
      if (entry.kind !== "Section") {
        report("VN014", `\`${key.name}\` is a section: write \`${key.name} { ... }\``, key.range);
        continue;
      }
      out[key.name] = validateSection(entry, field.type.fields, evaluate, report);
      continue;
    }
    if (entry.kind !== "Binding") {
      report("VN014", `\`${key.name}\` is a setting: write \`${key.name} = value\``, key.range);
      continue;
    }
    const value = evaluate(entry.value);
    if (containsError(value)) continue;
    const checked = checkArgument({ name: key.name, type: field.type as ParamSpec["type"], doc: field.doc }, value);
    if (isProblem(checked)) {
      report(checked.code, checked.problem, entry.value.range, checked.hint);
      continue;
    }
    if (field.type.kind === "ints" && field.type.length === undefined && !Array.isArray(checked)) out[key.name] = [checked as number];
    else out[key.name] = checked as SectionValue;
  }
  for (const [key, field] of Object.entries(schema)) {
    if (seen.has(key)) continue;
    if (field.type.kind === "section")
      out[key] = validateSection(
        { kind: "Section", name: { kind: "Ident", name: key, range: section.range }, entries: [], range: section.range },
        field.type.fields,
        evaluate,
        report,
      );
    else if (field.default !== undefined) out[key] = field.default as SectionValue;
  }
  return out;
}
