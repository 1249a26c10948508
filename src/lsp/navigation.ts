/**
 * Go to definition and rename. Both start from the name index: a mention is resolved to its
 * definition (following imports into other files), and a rename edits every mention in the
 * project that resolves to the same definition.
 */
import type { Location, Range as LspRange, WorkspaceEdit, TextEdit } from "vscode-languageserver";
import { KEYWORDS } from "../../grammar/tokens.js";
import { OPERATORS } from "../ops/catalogue.js";
import { isInside } from "../semantics/program.js";
import {
  isDefinition,
  occurrenceAt,
  resolveReference,
  resolveTopLevel,
  type Definition,
  type ImportInfo,
  type ModuleIndex,
  type Occurrence,
} from "./module-index.js";
import { lineIndexOf, toLspRange } from "./positions.js";
import type * as A from "../syntax/ast.js";
import type { Workspace } from "./workspace.js";

/** Locations the name at `offset` is defined at. */
export function definitionAt(workspace: Workspace, file: string, offset: number): Location[] {
  const index = workspace.indexOf(file);
  if (!index) return [];
  const occurrence = occurrenceAt(index, offset);
  if (!occurrence) return [];
  if (occurrence.role === "import-path") {
    return occurrence.target && workspace.textOf(occurrence.target) !== undefined
      ? [{ uri: workspace.uriOf(occurrence.target), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }]
      : [];
  }
  if (occurrence.role === "argument-name" && occurrence.call === "stage" && !OPERATORS.has(occurrence.callee)) {
    const block = resolveTopLevel(index, occurrence.callee, workspace.indexOf);
    if (isDefinition(block) && block.kind === "block") {
      const param = (block.node as A.BlockDecl).params.find((p) => p.name.name === occurrence.name);
      if (param) return [location(workspace, block.file, param.name.range)];
    }
    return [];
  }
  const target = targetOf(workspace, index, occurrence);
  if (!target) return [];
  if (isDefinition(target)) return [location(workspace, target.file, target.nameRange)];
  // An import whose file lacks the name: the best place to look is the imported file itself.
  if (target.target && workspace.textOf(target.target) !== undefined)
    return [{ uri: workspace.uriOf(target.target), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }];
  return [location(workspace, file, target.ident.range)];
}

/** What an occurrence names: its definition, or an unresolved import. */
function targetOf(workspace: Workspace, index: ModuleIndex, occurrence: Occurrence): Definition | ImportInfo | undefined {
  switch (occurrence.role) {
    case "definition":
      return occurrence.definition;
    case "reference":
      if (occurrence.usage === "stage" && OPERATORS.has(occurrence.name)) return undefined;
      return resolveReference(index, occurrence, workspace.indexOf);
    case "import-name":
      return resolveTopLevel(index, occurrence.name, workspace.indexOf);
    default:
      return undefined;
  }
}

function location(workspace: Workspace, file: string, range: { start: number; end: number }): Location {
  return { uri: workspace.uriOf(file), range: toLspRange(lineIndexOf(workspace.textOf(file) ?? ""), range) };
}

/** Thrown to refuse a rename with a message the editor shows. */
export class RenameRefused extends Error {}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORD_WORDS = new Set(KEYWORDS.map((k) => k.name.toLowerCase()));

/** The range of the renameable name at `offset`, or a refusal. */
export function prepareRename(workspace: Workspace, file: string, offset: number): { range: LspRange; placeholder: string } {
  const { occurrence } = renameTarget(workspace, file, offset);
  return { range: toLspRange(lineIndexOf(workspace.textOf(file) ?? ""), occurrence.range), placeholder: occurrence.name };
}

function renameTarget(workspace: Workspace, file: string, offset: number): { occurrence: Occurrence; definition: Definition } {
  const index = workspace.indexOf(file);
  const occurrence = index ? occurrenceAt(index, offset) : undefined;
  if (!index || !occurrence) throw new RenameRefused("no name here to rename");
  if (occurrence.role === "reference" && occurrence.usage === "stage" && OPERATORS.has(occurrence.name))
    throw new RenameRefused(`\`${occurrence.name}\` is a built-in operator`);
  const target = targetOf(workspace, index, occurrence);
  if (!target) throw new RenameRefused("only blocks, networks, constants, streams, inputs, bindings and loop variables can be renamed");
  if (!isDefinition(target)) throw new RenameRefused(`\`${occurrence.name}\` is not defined in \`${target.decl.path.value}\``);
  if (target.kind === "param") throw new RenameRefused("block parameters are named at every call site (`kernel = 3`); rename them by hand");
  if (!isInside(workspace.rootOf(file), target.file))
    throw new RenameRefused(`\`${target.name}\` is defined outside this project (in \`${target.file}\`, e.g. the installed vnet package); rename it there`);
  return { occurrence, definition: target };
}

/** Edits renaming the definition under the cursor and every mention of it, across importing files. */
export function renameAt(workspace: Workspace, file: string, offset: number, newName: string): WorkspaceEdit {
  const { definition } = renameTarget(workspace, file, offset);
  if (!IDENTIFIER.test(newName) || KEYWORD_WORDS.has(newName)) throw new RenameRefused(`\`${newName}\` is not a valid name`);
  if (newName === definition.name) return { changes: {} };
  checkConflict(workspace, definition, newName);
  const files = definition.container ? [definition.file] : workspace.projectFiles(workspace.rootOf(definition.file));
  if (!files.includes(definition.file)) files.push(definition.file);
  const changes: Record<string, TextEdit[]> = {};
  for (const candidate of files) {
    const index = workspace.indexOf(candidate);
    if (!index) continue;
    // Other files can only mention a top-level name through an import of it.
    if (candidate !== definition.file && !index.scope.imports.get(definition.name)) continue;
    const ranges = mentionsOf(workspace, index, definition);
    if (ranges.length === 0) continue;
    const lines = lineIndexOf(workspace.textOf(candidate) ?? "");
    changes[workspace.uriOf(candidate)] = ranges.map((r) => ({ range: toLspRange(lines, r), newText: newName }));
  }
  return { changes };
}

function sameDefinition(a: Definition, b: Definition): boolean {
  return a.file === b.file && a.nameRange.start === b.nameRange.start && a.name === b.name;
}

/** Every range in one file that names `definition`. */
function mentionsOf(workspace: Workspace, index: ModuleIndex, definition: Definition): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const o of index.occurrences) {
    if (o.name !== definition.name) continue;
    let target: Definition | ImportInfo | undefined;
    if (o.role === "definition") target = o.definition;
    else if (o.role === "reference") target = o.usage === "stage" && OPERATORS.has(o.name) ? undefined : resolveReference(index, o, workspace.indexOf);
    else if (o.role === "import-name") target = o.target === definition.file ? definition : undefined;
    if (isDefinition(target) && sameDefinition(target, definition)) out.push(o.range);
  }
  return out;
}

function checkConflict(workspace: Workspace, definition: Definition, newName: string): void {
  const index = workspace.indexOf(definition.file);
  if (!index) return;
  if (definition.container) {
    // Any local of the container, and the loop variables live where the definition is.
    const at = definition.nameRange.start;
    const clash = index.scope
      .localsOf(definition.container)
      .find((d) => d.name === newName && (d.kind !== "loop" || (d.scopeRange!.start <= at && at <= d.scopeRange!.end)));
    if (clash) throw new RenameRefused(`\`${newName}\` is already defined in this ${definition.container.kind === "Block" ? "block" : "network"}`);
  } else if (index.scope.topLevel.has(newName) || index.scope.imports.has(newName)) {
    throw new RenameRefused(`\`${newName}\` is already defined in this file`);
  }
  if (definition.kind === "block" && OPERATORS.has(newName))
    throw new RenameRefused(`\`${newName}\` is a built-in operator, which would take precedence over the block`);
}
