/**
 * Hover: what the name under the cursor is. Operators show their doc and parameters and, from the
 * checked network, the layer they produced (output shape, parameters, MACs); names show their
 * definition (block signature, binding value, stream and input shapes).
 */
import * as path from "node:path";
import type { Hover } from "vscode-languageserver";
import { FUNCTIONS, OPERATORS } from "../ops/catalogue.js";
import { formatShape } from "../ops/values.js";
import { totals } from "../semantics/network.js";
import { INFLATE_RULE, INFLATE_SETTINGS, SECTION_SCHEMAS, type Field, type Schema } from "../semantics/sections.js";
import { activationMemory, formatBytes } from "../semantics/memory.js";
import { formatCount, formatMacs } from "../semantics/summary.js";
import type * as A from "../syntax/ast.js";
import { blockSignature, fence, fieldMarkdown, INPUT_FUNCTION_PARAMS, opMarkdown, paramMarkdown, sourceText, TENSOR_MEMBERS } from "./docs.js";
import { blockExprs, forEachExpr, statementExprs } from "../syntax/walk.js";
import { inputShapes, layersFrom, layersMarkdown, networksReading } from "./layers.js";
import {
  docComment,
  isDefinition,
  occurrenceAt,
  resolveReference,
  resolveTopLevel,
  type Definition,
  type ImportInfo,
  type Occurrence,
  type StagePlace,
} from "./module-index.js";
import { lineIndexOf, toLspRange } from "./positions.js";
import type { Workspace } from "./workspace.js";

/** Hover for the identifier at `offset` in `file`, or null. */
export function hoverAt(workspace: Workspace, file: string, offset: number): Hover | null {
  const parsed = workspace.parsedOf(file);
  if (!parsed) return null;
  const occurrence = occurrenceAt(parsed.index, offset);
  if (!occurrence) return null;
  const markdown = hoverMarkdown(workspace, file, occurrence);
  if (!markdown) return null;
  return { contents: { kind: "markdown", value: markdown }, range: toLspRange(lineIndexOf(parsed.text), occurrence.range) };
}

function hoverMarkdown(workspace: Workspace, file: string, o: Occurrence): string | undefined {
  const index = workspace.indexOf(file)!;
  switch (o.role) {
    case "reference": {
      if (o.usage === "stage") {
        const op = OPERATORS.get(o.name);
        if (op) {
          const layers = o.stage ? layersMarkdown(layersFrom(workspace, file, o.stage.stage.range)) : "";
          return [layers, opMarkdown(op)].filter(Boolean).join("\n\n---\n\n");
        }
      }
      if (o.usage === "value" && FUNCTIONS.has(o.name) && !resolveReference(index, o, workspace.indexOf)) {
        return `${fence(`${o.name}(...)`)}\n\n${FUNCTIONS.get(o.name)!.doc}`;
      }
      const target = resolveReference(index, o, workspace.indexOf);
      if (!target) return o.usage === "stage" ? `unknown operator or block \`${o.name}\`` : undefined;
      const described = describe(workspace, target, file);
      if (o.stage && isDefinition(target) && target.kind === "block") {
        const shapes =
          stageOutputShapes(workspace, file, o.stage) ??
          (o.stage.owner && o.stage.position === o.stage.pipeline.length - 1 ? consumerShapes(workspace, o.stage.owner) : undefined);
        if (shapes?.length)
          return `${described}

---

output ${shapes.map((x) => `\`${x}\``).join(", ")}`;
      }
      return described;
    }
    case "definition":
      return describe(workspace, o.definition, file);
    case "import-name": {
      const target = resolveTopLevel(index, o.name, workspace.indexOf);
      return target ? describe(workspace, target, file) : undefined;
    }
    case "import-path":
      if (!o.target) return undefined;
      return `\`${path.relative(workspace.rootOf(file), o.target) || o.target}\`${workspace.textOf(o.target) === undefined ? " (not found)" : ""}`;
    case "argument-name":
      return argumentMarkdown(workspace, file, o);
    case "section-name": {
      const schema = SECTION_SCHEMAS[o.name];
      return schema
        ? `section \`${o.name}\`\n\n${Object.entries(schema)
            .map(([k, f]) => `- ${fieldMarkdown(k, f)}`)
            .join("\n")}`
        : undefined;
    }
    case "section-key": {
      const field = fieldAt(o.path, o.name);
      return field ? fieldMarkdown(o.name, field) : undefined;
    }
    case "alias": {
      const layers = layersFrom(workspace, file, o.stage.range);
      return layers.length ? layersMarkdown(layers) : `layer name \`${o.name}\``;
    }
    case "member":
      return TENSOR_MEMBERS[o.name] ? `\`.${o.name}\`: ${TENSOR_MEMBERS[o.name]}` : undefined;
  }
}

/** The schema field for a key at a section path (`["sampling", "train"]`, `["inflate", "rule"]`). */
export function fieldAt(sectionPath: readonly string[], key: string): Field | undefined {
  const schema = schemaAt(sectionPath);
  return schema?.[key];
}

export function schemaAt(sectionPath: readonly string[]): Schema | undefined {
  if (sectionPath[0] === "inflate") return sectionPath[1] === "rule" ? INFLATE_RULE : INFLATE_SETTINGS;
  let schema: Schema | undefined = SECTION_SCHEMAS[sectionPath[0] ?? ""];
  for (const part of sectionPath.slice(1)) {
    const field: Field | undefined = schema?.[part];
    schema = field?.type.kind === "section" ? field.type.fields : undefined;
  }
  return schema;
}

function argumentMarkdown(workspace: Workspace, file: string, o: Extract<Occurrence, { role: "argument-name" }>): string | undefined {
  if (o.call === "function") {
    const p = INPUT_FUNCTION_PARAMS[o.callee]?.find((q) => q.name === o.name);
    return p ? `\`${o.name}\`: ${p.doc}` : undefined;
  }
  const op = OPERATORS.get(o.callee);
  if (op) {
    const p = op.params.find((q) => q.name === o.name);
    return p ? `${paramMarkdown(p)}\n\n(parameter of \`${op.name}\`)` : `\`${op.name}\` has no parameter \`${o.name}\``;
  }
  const target = resolveTopLevel(workspace.indexOf(file)!, o.callee, workspace.indexOf);
  if (isDefinition(target) && target.kind === "block") {
    const block = target.node as A.BlockDecl;
    const param = block.params.find((p) => p.name.name === o.name);
    const text = workspace.textOf(target.file) ?? "";
    if (param)
      return `${fence(param.defaultValue ? `${o.name} = ${sourceText(text, param.defaultValue.range, 80)}` : o.name)}\n\nparameter of block \`${block.name.name}\``;
  }
  return undefined;
}

/** Markdown describing a definition, with shapes from the checked networks where there are any. */
function describe(workspace: Workspace, target: Definition | ImportInfo, fromFile: string): string {
  if (!isDefinition(target)) {
    const where = target.target ? path.relative(path.dirname(fromFile), target.target) : target.decl.path.value;
    return `\`${target.ident.name}\`, imported from \`${where}\` (not found there)`;
  }
  const text = workspace.textOf(target.file) ?? "";
  const elsewhere = target.file !== fromFile ? `\n\n_from \`${path.relative(path.dirname(fromFile), target.file) || path.basename(target.file)}\`_` : "";
  const doc = (d: Definition) => {
    const ast = workspace.indexOf(d.file)?.ast;
    const comment = ast ? docComment(ast, text, d.declRange.start) : undefined;
    return comment ? `\n\n${comment}` : "";
  };
  switch (target.kind) {
    case "block":
      return `${fence(blockSignature(target.node as A.BlockDecl, text))}${doc(target)}${elsewhere}`;
    case "network": {
      const network = networksReading(workspace, target.file).find(
        (n) => n.file === target.file && n.name === target.name && n.range.start === target.declRange.start,
      );
      let facts = "";
      if (network) {
        const t = totals(network);
        const inputs = network.inputs
          .filter((i) => i.modelInput)
          .map((i) => `\`${i.name}\` \`${formatShape(i.shape)}\``)
          .join(", ");
        const outputs = network.outputs
          .map((id) => network.layers.find((l) => l.id === id))
          .filter((l) => l)
          .map((l) => `\`${formatShape(l!.shape)}\``)
          .join(", ");
        const memory = activationMemory(network);
        const activations = `${formatBytes(memory.forward)} activations per clip (${formatBytes(memory.peak)} peak in inference) · training ~${formatBytes(memory.training.total)} at batch ${memory.training.batch}`;
        facts = `\n\n${network.layers.length} layers · ${formatCount(t.trainable)} trainable parameters · ${formatMacs(t.macs)} MACs\n\n${activations}${inputs ? `\n\ninputs: ${inputs}` : ""}${outputs ? ` · output: ${outputs}` : ""}`;
      }
      return `${fence(`network ${target.name}`)}${doc(target)}${facts}${elsewhere}`;
    }
    case "const":
      return `${fence(sourceText(text, target.declRange))}${doc(target)}${elsewhere}`;
    case "param": {
      const block = target.container as A.BlockDecl;
      return `${fence(sourceText(text, target.declRange))}\n\nparameter of block \`${block.name.name}\``;
    }
    case "loop": {
      const loop = target.node as A.ForStage;
      return fence(`for ${loop.variable.name} in ${sourceText(text, loop.from.range, 40)}..${sourceText(text, loop.to.range, 40)}`);
    }
    case "input":
    case "stream":
    case "binding": {
      const prefix = target.kind === "binding" ? "" : `${target.kind} `;
      const code = fence(`${prefix}${sourceText(text, target.declRange).replace(/^(input|stream)\s+/, "")}`);
      const shapes = shapeOf(workspace, target);
      return `${code}${shapes ? `\n\n${shapes}` : ""}${elsewhere}`;
    }
  }
}

/** The tensor shape(s) a local name holds, from the checked networks. */
function shapeOf(workspace: Workspace, d: Definition): string | undefined {
  const container = d.container;
  if (!container) return undefined;
  if (d.kind === "input" || d.kind === "stream") {
    const shapes = networksReading(workspace, d.file)
      .filter((n) => n.file === d.file && n.range.start === container.range.start)
      .flatMap((n) => n.inputs.filter((i) => i.name === d.name))
      .map((i) => `\`${formatShape(i.shape)}\``);
    if (shapes.length) return `shape ${[...new Set(shapes)].join(", ")}`;
  }
  const node = d.node as A.Binding | A.StreamDecl;
  const value = "value" in node ? node.value : undefined;
  const stages = value?.kind === "Chain" ? value.stages : [];
  const last = stages[stages.length - 1];
  const shapes =
    (last?.kind === "CallStage" ? stageOutputShapes(workspace, d.file, { stage: last, pipeline: stages, position: stages.length - 1 }) : undefined) ??
    consumerShapes(workspace, d);
  if (!shapes || shapes.length === 0) return undefined;
  return shapes.length === 1 ? `shape \`${shapes[0]}\`` : `shapes ${shapes.map((s) => `\`${s}\``).join(", ")}`;
}

/**
 * Output shapes of a call stage. An operator's layers carry them; a block call has no layer of its
 * own, so its output is read off the operator that follows it in the pipeline.
 */
function stageOutputShapes(workspace: Workspace, file: string, place: StagePlace): string[] | undefined {
  if (OPERATORS.has(place.stage.callee.name)) {
    const layers = layersFrom(workspace, file, place.stage.range);
    return layers.length ? [...new Set(layers.map((l) => formatShape(l.layer.shape)))] : undefined;
  }
  const next = place.pipeline[place.position + 1];
  if (next?.kind !== "CallStage" || !OPERATORS.has(next.callee.name)) return undefined;
  const shapes = inputShapes(layersFrom(workspace, file, next.range));
  return shapes.length ? shapes : undefined;
}

/** Shapes of a local name, read off the operators it is piped into (`x -> op`, `[x, y] -> add`). */
function consumerShapes(workspace: Workspace, d: Definition): string[] | undefined {
  if (!d.container) return undefined;
  const shapes = new Set<string>();
  for (const root of d.container.kind === "Block" ? blockExprs(d.container) : statementExprs(d.container.body)) {
    forEachExpr(root, (e) => {
      if (e.kind !== "Chain") return;
      const first = e.stages[0];
      if (first?.kind !== "CallStage" || !OPERATORS.has(first.callee.name)) return;
      const slot =
        e.head.kind === "Name" && e.head.name === d.name
          ? 0
          : e.head.kind === "List"
            ? e.head.items.findIndex((i) => i.kind === "Name" && i.name === d.name)
            : -1;
      if (slot < 0) return;
      for (const instance of layersFrom(workspace, d.file, first.range)) {
        const id = instance.layer.inputs[slot];
        const input = instance.graph.find((l) => l.id === id);
        if (input) shapes.add(formatShape(input.shape));
      }
    });
    if (shapes.size) break;
  }
  return shapes.size ? [...shapes] : undefined;
}
