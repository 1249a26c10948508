/**
 * Markdown for hovers and completion details, rendered from the operator catalogue and the
 * section schemas, so the editor documents exactly what the checker accepts.
 */
import type { OpDef, ParamSpec, ParamType } from "../ops/catalogue.js";
import type { ArgValue } from "../ops/values.js";
import type { Field, FieldType } from "../semantics/sections.js";
import { INPUT_FUNCTION_PARAMS as INPUT_PARAMS, SHAPE_MEMBER_DOC, TENSOR_MEMBERS as MEMBERS } from "../semantics/values.js";
import type * as A from "../syntax/ast.js";

/** Arguments of the input descriptions (`clip(...)` and the like), which are functions, not operators; by any callee name. */
export const INPUT_FUNCTION_PARAMS: Readonly<Record<string, readonly { readonly name: string; readonly doc: string }[] | undefined>> = INPUT_PARAMS;

/** Members readable on a tensor value (`x.channels`), documented where the checker reads them. */
export const TENSOR_MEMBERS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(MEMBERS).map(([name, member]) => [name, member.doc])),
  shape: SHAPE_MEMBER_DOC,
};

export function formatArgValue(value: ArgValue | null | undefined): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => formatArgValue(v)).join(", ")}]`;
  return String(value);
}

export function typeText(type: ParamType | FieldType): string {
  switch (type.kind) {
    case "int":
      return type.min !== undefined ? `int ≥ ${type.min}` : "int";
    case "number":
      return "number";
    case "bool":
      return "bool";
    case "enum":
      return type.values.map((v) => JSON.stringify(v)).join(" | ");
    case "ints":
      return "length" in type && type.length ? `int or [${type.length} ints]` : "ints";
    case "padding":
      return `int, [${type.length} ints], "same" or "valid"`;
    case "numbers":
      return "number or [numbers]";
    case "strings":
      return "[strings]";
    case "section":
      return "section { ... }";
  }
}

export function paramSignature(p: ParamSpec): string {
  return p.default === undefined ? p.name : p.default === null ? `${p.name}?` : `${p.name} = ${formatArgValue(p.default)}`;
}

export function opSignature(op: OpDef): string {
  const params = op.params.map(paramSignature).join(", ");
  const input = op.inputs === "many" ? "[a, b, ...] -> " : "x -> ";
  const body = op.body ? " { pipeline }" : "";
  return `${input}${op.name}${op.params.length ? `(${params})` : ""}${body}`;
}

export function paramMarkdown(p: ParamSpec): string {
  const req = p.default === undefined ? "required" : p.default === null ? "optional" : `default \`${formatArgValue(p.default)}\``;
  return `\`${p.name}\` (${typeText(p.type)}; ${req}): ${p.doc}`;
}

export function opMarkdown(op: OpDef): string {
  const lines = [fence(opSignature(op)), op.doc];
  if (op.streamOnly) lines.push("_Data pipeline only: use it in a `stream` declaration._");
  if (op.params.length) lines.push(op.params.map((p) => `- ${paramMarkdown(p)}`).join("\n"));
  return lines.join("\n\n");
}

export function fieldMarkdown(name: string, field: Field): string {
  const def = field.default !== undefined ? `; default \`${formatArgValue(field.default as ArgValue)}\`` : "";
  const fields =
    field.type.kind === "section"
      ? `\n\n${Object.entries(field.type.fields)
          .map(([k, f]) => `- \`${k}\`: ${f.doc}`)
          .join("\n")}`
      : "";
  return `\`${name}\` (${typeText(field.type)}${def}): ${field.doc}${fields}`;
}

export function blockSignature(block: A.BlockDecl, text: string): string {
  const params = block.params.map((p) => (p.defaultValue ? `${p.name.name} = ${sourceText(text, p.defaultValue.range, 40)}` : p.name.name));
  return `block ${block.name.name}(${params.join(", ")})`;
}

/** A declaration's source, whitespace collapsed and cut to `max` characters. */
export function sourceText(text: string, range: { start: number; end: number }, max = 240): string {
  const raw = text.slice(range.start, range.end).replace(/\s+/g, " ").trim();
  return raw.length > max ? `${raw.slice(0, max - 1)}…` : raw;
}

export function fence(code: string): string {
  return "```vnet\n" + code + "\n```";
}
