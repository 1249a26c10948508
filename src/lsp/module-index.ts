/**
 * What the editor needs on top of the scope provider: every mention of a name in one file, with
 * its range, its role and the scope it sits in. Definitions and what a mention resolves to come
 * from `semantics/scope.ts`, the code the checker resolves names with. Built from the AST alone,
 * so it works on half-written specs and on files no network expands (libraries).
 */
import type { Range } from "../diagnostics/diagnostic.js";
import { importedDefinition, ModuleScope, type Container, type Definition, type ImportInfo, type ScopeContext } from "../semantics/scope.js";
import type * as A from "../syntax/ast.js";

export type { Definition, DefinitionKind, ImportInfo, ScopeContext } from "../semantics/scope.js";

/** A call stage and where it sits: its pipeline and, for a binding's own chain, the binding. */
export interface StagePlace {
  readonly stage: A.CallStage;
  readonly pipeline: readonly A.Stage[];
  readonly position: number;
  /** The name the chain is bound to, when the chain is a binding's or stream's whole value. */
  readonly owner?: Definition;
}

/** One identifier in the text and what role it plays there. */
export type Occurrence =
  | { readonly role: "definition"; readonly name: string; readonly range: Range; readonly definition: Definition }
  /** A value reference (`x`), a stage callee (`conv3d`, `basic`) or an inflation source. */
  | {
      readonly role: "reference";
      readonly name: string;
      readonly range: Range;
      readonly scope: ScopeContext;
      readonly usage: "value" | "stage" | "inflate";
      readonly stage?: StagePlace;
    }
  | { readonly role: "import-name"; readonly name: string; readonly range: Range; readonly decl: A.ImportDecl; readonly target: string | undefined }
  | { readonly role: "import-path"; readonly name: string; readonly range: Range; readonly decl: A.ImportDecl; readonly target: string | undefined }
  /** `kernel` in `conv3d(64, kernel = 3)` or `frames` in `clip(frames = 16)`. */
  | {
      readonly role: "argument-name";
      readonly name: string;
      readonly range: Range;
      readonly callee: string;
      readonly calleeRange: Range;
      readonly scope: ScopeContext;
      readonly call: "stage" | "function";
    }
  /** A key inside a section or an inflation rule: `stride` in `train { stride = 2 }`. */
  | { readonly role: "section-key"; readonly name: string; readonly range: Range; readonly path: readonly string[] }
  | { readonly role: "section-name"; readonly name: string; readonly range: Range; readonly path: readonly string[] }
  | { readonly role: "alias"; readonly name: string; readonly range: Range; readonly stage: A.Stage }
  | { readonly role: "member"; readonly name: string; readonly range: Range };

/** The index of one file. */
export interface ModuleIndex {
  readonly file: string;
  readonly ast: A.SpecFile;
  /** Definitions and name resolution. */
  readonly scope: ModuleScope;
  /** Sorted by start offset. */
  readonly occurrences: readonly Occurrence[];
}

/**
 * Builds the index of a parsed file. Never throws on partial trees. `importTarget` is the file an
 * import's path names (undefined where it may not be followed, e.g. out of the project).
 */
export function indexModule(file: string, ast: A.SpecFile, importTarget: (spec: string) => string | undefined): ModuleIndex {
  const moduleScope = new ModuleScope(file, ast, (decl) => importTarget(decl.path.value));
  const occurrences: Occurrence[] = moduleScope.definitions.map((d) => ({ role: "definition", name: d.name, range: d.nameRange, definition: d }));
  const definitionOf = (ident: A.Ident) => moduleScope.definitionOf(ident);
  const reference = (name: string, range: Range, scope: ScopeContext, usage: "value" | "stage" | "inflate", stage?: StagePlace) => {
    if (name) occurrences.push({ role: "reference", name, range, scope, usage, ...(stage ? { stage } : {}) });
  };

  const walkExpr = (root: A.Expr | undefined, scope: ScopeContext, owner?: Definition) => {
    if (!root) return;
    if (root.kind === "Chain" && owner) {
      // The binding's own chain: its stages learn their owner, for shapes of block calls at the end.
      walkExpr(root.head, scope);
      root.stages.forEach((stage, i) => walkStage(stage, scope, root.stages, i, owner));
      return;
    }
    // Explicit stack: deeply left-nested arithmetic must not exhaust the call stack.
    const stack: { e: A.Expr; scope: ScopeContext }[] = [{ e: root, scope }];
    while (stack.length > 0) {
      const { e, scope: s } = stack.pop()!;
      switch (e.kind) {
        case "Name":
          reference(e.name, e.range, s, "value");
          break;
        case "List":
          for (const item of e.items) stack.push({ e: item, scope: s });
          break;
        case "Call": {
          const calleeName = e.callee.kind === "Name" ? e.callee.name : "";
          if (e.callee.kind !== "Name") stack.push({ e: e.callee, scope: s });
          for (const arg of e.args) {
            if (arg.name?.name)
              occurrences.push({
                role: "argument-name",
                name: arg.name.name,
                range: arg.name.range,
                callee: calleeName,
                calleeRange: e.callee.range,
                scope: s,
                call: "function",
              });
            stack.push({ e: arg.value, scope: s });
          }
          break;
        }
        case "Index":
          stack.push({ e: e.object, scope: s }, { e: e.index, scope: s });
          break;
        case "Member":
          if (e.member.name) occurrences.push({ role: "member", name: e.member.name, range: e.member.range });
          stack.push({ e: e.object, scope: s });
          break;
        case "Unary":
          stack.push({ e: e.operand, scope: s });
          break;
        case "Binary":
          stack.push({ e: e.left, scope: s }, { e: e.right, scope: s });
          break;
        case "If":
          stack.push({ e: e.condition, scope: s }, { e: e.whenTrue, scope: s }, { e: e.whenFalse, scope: s });
          break;
        case "Paren":
          stack.push({ e: e.inner, scope: s });
          break;
        case "Chain":
          stack.push({ e: e.head, scope: s });
          e.stages.forEach((stage, i) => walkStage(stage, s, e.stages, i));
          break;
        default:
          break;
      }
    }
  };

  const walkStage = (stage: A.Stage, scope: ScopeContext, pipeline: readonly A.Stage[], position: number, owner?: Definition) => {
    if (stage.kind === "ForStage") {
      walkExpr(stage.from, scope);
      walkExpr(stage.to, scope);
      const inner: ScopeContext = { ...scope, loops: [...scope.loops, stage] };
      stage.body.forEach((s, i) => walkStage(s, inner, stage.body, i));
    } else {
      reference(stage.callee.name, stage.callee.range, scope, "stage", { stage, pipeline, position, ...(owner ? { owner } : {}) });
      for (const arg of stage.args ?? []) {
        if (arg.name?.name)
          occurrences.push({
            role: "argument-name",
            name: arg.name.name,
            range: arg.name.range,
            callee: stage.callee.name,
            calleeRange: stage.callee.range,
            scope,
            call: "stage",
          });
        walkExpr(arg.value, scope);
      }
      stage.body?.forEach((s, i) => walkStage(s, scope, stage.body!, i));
    }
    if (stage.alias?.name) occurrences.push({ role: "alias", name: stage.alias.name, range: stage.alias.range, stage });
  };

  const walkSection = (section: A.Section, parents: readonly string[], scope: ScopeContext) => {
    const here = [...parents, section.name.name];
    if (section.name.name)
      occurrences.push({ role: parents.length === 0 ? "section-name" : "section-key", name: section.name.name, range: section.name.range, path: here });
    for (const entry of section.entries) {
      if (entry.kind === "Section") walkSection(entry, here, scope);
      else {
        for (const key of entry.names) if (key.name) occurrences.push({ role: "section-key", name: key.name, range: key.range, path: here });
        walkExpr(entry.value, scope);
      }
    }
  };

  const walkStatements = (statements: readonly A.Statement[], container: Container) => {
    const scope: ScopeContext = { container, loops: [] };
    for (const s of statements) {
      switch (s.kind) {
        case "Input":
          walkExpr(s.value, scope);
          break;
        case "Stream":
          walkExpr(s.value, scope, definitionOf(s.name));
          break;
        case "Binding":
          walkExpr(s.value, scope, s.names.length === 1 ? definitionOf(s.names[0]!) : undefined);
          break;
        case "Output":
          for (const v of s.values) walkExpr(v, scope);
          break;
        case "Section":
          walkSection(s, [], scope);
          break;
        case "Inflate":
          reference(s.source.name, s.source.range, scope, "inflate");
          for (const entry of s.entries) {
            if (entry.kind === "Binding") {
              for (const key of entry.names) if (key.name) occurrences.push({ role: "section-key", name: key.name, range: key.range, path: ["inflate"] });
              walkExpr(entry.value, scope);
            } else {
              for (const b of entry.bindings) {
                for (const key of b.names) if (key.name) occurrences.push({ role: "section-key", name: key.name, range: key.range, path: ["inflate", "rule"] });
                walkExpr(b.value, scope);
              }
            }
          }
          break;
      }
    }
  };

  for (const item of ast.items) {
    switch (item.kind) {
      case "Import": {
        const target = importTarget(item.path.value);
        for (const n of item.names) if (n.name) occurrences.push({ role: "import-name", name: n.name, range: n.range, decl: item, target });
        if (item.path.raw) occurrences.push({ role: "import-path", name: item.path.value, range: item.path.range, decl: item, target });
        break;
      }
      case "Block": {
        const context: ScopeContext = { container: item, loops: [] };
        for (const p of item.params) walkExpr(p.defaultValue, context);
        walkStatements(item.body, item);
        break;
      }
      case "Network":
        walkStatements(item.body, item);
        break;
      case "Binding":
        walkExpr(item.value, { loops: [] });
        break;
    }
  }
  occurrences.sort((a, b) => a.range.start - b.range.start);
  return { file, ast, scope: moduleScope, occurrences };
}

/** The occurrence under the cursor (an identifier touching the offset on either side). */
export function occurrenceAt(index: ModuleIndex, offset: number): Occurrence | undefined {
  let touching: Occurrence | undefined;
  for (const o of index.occurrences) {
    if (o.range.start > offset) break;
    if (offset < o.range.end) return o;
    if (offset === o.range.end && o.range.end > o.range.start) touching = o;
  }
  return touching;
}

/** The network or block whose text holds the offset. */
export function containerAt(index: ModuleIndex, offset: number): A.BlockDecl | A.NetworkDecl | undefined {
  for (const item of index.ast.items) {
    if ((item.kind === "Block" || item.kind === "Network") && item.range.start <= offset && offset <= item.range.end) return item;
  }
  return undefined;
}

/** The locals readable at an offset inside a container: those declared above it and the variables of the loops around it. */
export function localsAt(index: ModuleIndex, container: Container | undefined, offset: number): Definition[] {
  if (!container) return [];
  return index.scope.visibleLocals(offset, index.scope.contextAt(offset, container));
}

/** Looks up other files' indexes (open buffers first, then disk). */
export type IndexLookup = (file: string) => ModuleIndex | undefined;

/**
 * What a value or stage reference names, resolved by the scope provider as the checker does. A
 * local declared further down still resolves (to it), so navigation works on forward references.
 */
export function resolveReference(
  index: ModuleIndex,
  occurrence: Extract<Occurrence, { role: "reference" }>,
  lookup: IndexLookup,
): Definition | ImportInfo | undefined {
  if (occurrence.usage === "value") {
    const resolution = index.scope.resolve(occurrence.name, occurrence.range.start, occurrence.scope);
    if (resolution?.kind === "local" || resolution?.kind === "later") return resolution.definition;
  }
  return resolveTopLevel(index, occurrence.name, lookup);
}

/** A top-level name of this file, or the definition an import brings in (or the import itself when unresolved). */
export function resolveTopLevel(index: ModuleIndex, name: string, lookup: IndexLookup): Definition | ImportInfo | undefined {
  const resolution = index.scope.resolveTop(name);
  if (!resolution) return undefined;
  if (resolution.kind === "top") return resolution.definition;
  return importedDefinition(resolution.imported, (file) => lookup(file)?.scope) ?? resolution.imported;
}

export function isDefinition(x: Definition | ImportInfo | undefined): x is Definition {
  return x !== undefined && (x as Definition).nameRange !== undefined;
}

/** The leading `//` comment lines right above a declaration: its documentation. */
export function docComment(ast: A.SpecFile, text: string, declStart: number): string | undefined {
  const lines: string[] = [];
  let cursor = declStart;
  const comments = [...ast.comments].filter((c) => c.range.end <= declStart).sort((a, b) => b.range.start - a.range.start);
  for (const c of comments) {
    const between = text.slice(c.range.end, cursor);
    // Only whitespace with at most one line break: the comment sits directly above.
    if (!/^[ \t]*\r?\n?[ \t]*$/.test(between)) break;
    lines.unshift(c.block ? c.text.replace(/^\/\*+\s?|\s*\*+\/$/g, "").replace(/^\s*\* ?/gm, "") : c.text.replace(/^\/\/\s?/, ""));
    cursor = c.range.start;
  }
  return lines.length ? lines.join("\n") : undefined;
}
