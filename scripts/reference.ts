/**
 * Markdown references generated from the code that defines them: the operator catalogue, the
 * diagnostic codes, the section schemas and the task contracts. Pure functions from data to text.
 */
import type { CodeInfo } from "../src/diagnostics/codes.js";
import type { OpDef, ParamType } from "../src/ops/catalogue.js";
import type { ArgValue } from "../src/ops/values.js";
import { rankName } from "../src/ops/values.js";
import type { FieldType, Schema } from "../src/semantics/sections.js";
import type { Described, TaskContract } from "../src/semantics/tasks/contract.js";

/** Escapes a table cell: pipes would split it and newlines would end the row. */
export function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A Markdown table with a header row. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** A value as vnet source writes it: strings quoted, lists in brackets. */
export function formatValue(value: ArgValue | readonly number[]): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v as ArgValue)).join(", ")}]`;
  return String(value);
}

function range(kind: string, min?: number, max?: number, exclusiveMin?: boolean): string {
  if (min !== undefined && max !== undefined) return `${kind} in ${exclusiveMin ? "(" : "["}${min}, ${max}]`;
  if (min !== undefined) return `${kind} ${exclusiveMin ? ">" : "≥"} ${min}`;
  if (max !== undefined) return `${kind} ≤ ${max}`;
  return kind;
}

function enumeration(values: readonly string[]): string {
  return `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
}

/** An operator parameter's type in words. */
export function describeParamType(type: ParamType): string {
  switch (type.kind) {
    case "int":
      return range("int", type.min, type.max);
    case "number":
      return range("number", type.min, type.max, type.exclusiveMin);
    case "bool":
      return "bool";
    case "enum":
      return enumeration(type.values);
    case "ints":
      return `${range("int", type.min)}, or a list of ${type.length} ints`;
    case "padding":
      return `int, a list of ${type.length} ints, "same" or "valid"`;
    case "numbers":
      return "number or list of numbers";
    case "strings":
      return "list of strings";
  }
}

/** A section field's type in words. */
export function describeFieldType(type: FieldType): string {
  switch (type.kind) {
    case "int":
      return range("int", type.min, type.max);
    case "number":
      return range("number", type.min, type.max, type.exclusiveMin);
    case "bool":
      return "bool";
    case "enum":
      return enumeration(type.values);
    case "ints":
      return `${type.length !== undefined ? `list of ${type.length} ints` : "list of ints"}${type.min !== undefined ? `, each ≥ ${type.min}` : ""}`;
    case "strings":
      return "list of strings";
    case "section":
      return "section";
  }
}

function code(text: string): string {
  return `\`${text}\``;
}

function describeInputs(op: OpDef): string {
  const count =
    op.inputs === "many"
      ? "two or more tensors, given as a list (`[a, b] -> " + op.name + "`)"
      : op.inputs === 1
        ? "one tensor"
        : `${op.inputs} tensors, given as a list`;
  const ranks = op.ranks?.length ? `; accepts ${op.ranks.map(rankName).join(" or ")}` : "";
  return count + ranks;
}

function signature(op: OpDef): string {
  const params = op.params.map((p) => (p.default === undefined ? p.name : p.default === null ? `${p.name}?` : `${p.name} = ${formatValue(p.default)}`));
  return `${op.name}${params.length ? `(${params.join(", ")})` : ""}${op.body ? " { pipeline }" : ""}`;
}

function placement(op: OpDef): string | undefined {
  if (op.streamOnly) return "Data pipeline only: valid in a `stream` declaration, not in the model.";
  if (op.streamOk) return "Valid both in a `stream` declaration and in the model.";
  return undefined;
}

/**
 * operators.md: an index, then one section per operator (grouped by category in catalogue
 * order, alphabetical within a category) with its signature, inputs and parameter table.
 */
export function operatorReference(operators: Iterable<OpDef>, functions: ReadonlyMap<string, { doc: string; arity: [number, number] }>): string {
  const ops = [...operators];
  const categories = [...new Set(ops.map((op) => op.category))];
  const grouped = categories.map((category) => ({ category, ops: ops.filter((op) => op.category === category).sort((a, b) => (a.name < b.name ? -1 : 1)) }));
  const out: string[] = [
    "# Operator reference",
    "",
    `${ops.length} operators from \`src/ops/catalogue.ts\`. Positional arguments follow the parameter order shown; any parameter may be named (\`conv3d(64, kernel = 3)\`). In the signatures, \`name?\` marks an optional parameter with no fixed default (see its description). Shapes are channels-last without the batch axis.`,
    "",
    table(
      ["operator", "category", "inputs", "summary"],
      grouped.flatMap((g) => g.ops.map((op) => [`[\`${op.name}\`](#${op.name})`, g.category, op.inputs === "many" ? "list" : String(op.inputs), op.doc])),
    ),
    "",
  ];
  for (const group of grouped) {
    out.push(`## ${group.category}`, "");
    for (const op of group.ops) {
      out.push(`### ${op.name}`, "", "```vnet", signature(op), "```", "", op.doc, "", `Inputs: ${describeInputs(op)}.`, "");
      const where = placement(op);
      if (where) out.push(where, "");
      if (op.body) out.push("Takes a `{ pipeline }` body, applied to every frame.", "");
      if (op.params.length) {
        out.push(
          table(
            ["parameter", "type", "default", "description"],
            op.params.map((p) => [
              code(p.name),
              describeParamType(p.type),
              p.default === undefined ? "required" : p.default === null ? "optional" : code(formatValue(p.default)),
              p.doc,
            ]),
          ),
          "",
        );
      } else out.push("No parameters.", "");
    }
  }
  out.push("## Expression functions", "", "Pure functions usable in any expression (`floor(x.channels / 2)`), and the input constructors.", "");
  out.push(
    table(
      ["function", "arguments", "description"],
      [...functions]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, f]) => [code(name), f.arity[0] === f.arity[1] ? String(f.arity[0]) : `${f.arity[0]}–${f.arity[1]}`, f.doc]),
    ),
    "",
  );
  return out.join("\n");
}

/** codes.md: every diagnostic code, sorted by code. */
export function codeReference(codes: Iterable<CodeInfo>): string {
  const rows = [...codes].sort((a, b) => (a.code < b.code ? -1 : 1)).map((c) => [code(c.code), c.name, c.severity, c.summary]);
  return [
    "# Diagnostic codes",
    "",
    `${rows.length} codes from \`src/diagnostics/codes.ts\`. Codes are stable: a code is never reused for another meaning. \`vnet codes\` prints the same list.`,
    "",
    table(["code", "name", "severity", "summary"], rows),
    "",
  ].join("\n");
}

function schemaTables(title: string, schema: Schema, out: string[]): void {
  const rows: string[][] = [];
  const nested: [string, Schema][] = [];
  for (const [key, field] of Object.entries(schema)) {
    rows.push([code(key), describeFieldType(field.type), field.default === undefined ? "—" : code(formatValue(field.default)), field.doc]);
    if (field.type.kind === "section") nested.push([`${title} › ${key}`, field.type.fields]);
  }
  out.push(`### ${title}`, "", table(["key", "type", "default", "description"], rows), "");
  for (const [nestedTitle, fields] of nested) schemaTables(nestedTitle, fields, out);
}

/** sections.md: the keys of `sampling`, `training`, `inflate` and inflation rules, and the network properties. */
export function sectionReference(
  sections: Readonly<Record<string, Schema>>,
  inflateSettings: Schema,
  inflateRule: Schema,
  properties: readonly string[],
): string {
  const out: string[] = [
    "# Sections and settings",
    "",
    "Keys the checker accepts in a network's data sections and in inflation, from `src/semantics/sections.ts`. A key without a default is optional unless its description says otherwise; commas between settings are optional.",
    "",
    "## Network sections",
    "",
  ];
  for (const [name, schema] of Object.entries(sections)) schemaTables(name, schema, out);
  out.push("## Inflation", "", '`inflate source2d { settings  "glob" { rule }  ... }`: later rules win.', "");
  schemaTables("inflate settings", inflateSettings, out);
  schemaTables("inflation rule", inflateRule, out);
  out.push("## Network properties", "", `Special bindings in a network body: ${properties.map(code).join(", ")}.`, "");
  return out.join("\n");
}

/** tasks.md: every task's contract (inputs, outputs, losses, metrics, dataset formats). */
export function taskReference(tasks: Iterable<TaskContract>, defaultTask: string): string {
  const out: string[] = [
    "# Tasks",
    "",
    `A network states what it is for with \`task = "..."\` (\`${defaultTask}\` when it says nothing). The task fixes what the model reads and outputs (checked: VN024, VN063, VN064), what training minimises, what \`vnet eval\` reports and which datasets feed it; from \`src/semantics/tasks/\`.`,
    "",
  ];
  const list = (title: string, entries: readonly Described[]) => {
    out.push(
      `**${title}**`,
      "",
      table(
        ["name", "what"],
        entries.map((e) => [code(e.name), e.doc]),
      ),
      "",
    );
  };
  for (const task of tasks) {
    out.push(`## ${task.name}`, "", task.doc, "", `**Inputs:** ${task.inputs}.`, "");
    out.push(
      "**Outputs** (in `output` order)",
      "",
      table(
        ["output", "shape", "what"],
        task.outputs.map((o) => [code(o.name), o.shape, o.doc]),
      ),
      "",
    );
    list("Losses", task.losses);
    list("Metrics", task.metrics);
    list("Datasets", task.datasets);
  }
  return out.join("\n");
}
