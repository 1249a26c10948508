/**
 * What the editor needs and the checker does not keep: every definition and every mention of a
 * name in one file, with its range and the scope it sits in. Built from the AST alone, so it
 * works on half-written specs and on files no network expands (libraries).
 */
import * as path from "node:path";
import type { Range } from "../diagnostics/diagnostic.js";
import type * as A from "../syntax/ast.js";

export type DefinitionKind = "block" | "network" | "const" | "input" | "stream" | "binding" | "param" | "loop";

/** A name introduced somewhere: a top-level declaration or a local inside a network or block. */
export interface Definition {
  readonly name: string;
  readonly kind: DefinitionKind;
  readonly file: string;
  /** The identifier that introduces the name. */
  readonly nameRange: Range;
  /** The whole declaration (for outlines and hover text). */
  readonly declRange: Range;
  /** The network or block a local lives in; undefined for top-level names. */
  readonly container?: A.BlockDecl | A.NetworkDecl;
  /** Where a loop variable is visible. */
  readonly scopeRange?: Range;
  readonly node: A.BlockDecl | A.NetworkDecl | A.Binding | A.InputDecl | A.StreamDecl | A.Param | A.ForStage;
}

/** The scope a mention sits in, enough to resolve it like the checker does. */
export interface ScopeContext {
  readonly container?: A.BlockDecl | A.NetworkDecl;
  /** Loop stages around the mention, outermost first. */
  readonly loops: readonly A.ForStage[];
}

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
  | { readonly role: "reference"; readonly name: string; readonly range: Range; readonly scope: ScopeContext; readonly usage: "value" | "stage" | "inflate"; readonly stage?: StagePlace }
  | { readonly role: "import-name"; readonly name: string; readonly range: Range; readonly decl: A.ImportDecl; readonly target: string | undefined }
  | { readonly role: "import-path"; readonly name: string; readonly range: Range; readonly decl: A.ImportDecl; readonly target: string | undefined }
  /** `kernel` in `conv3d(64, kernel = 3)` or `frames` in `clip(frames = 16)`. */
  | { readonly role: "argument-name"; readonly name: string; readonly range: Range; readonly callee: string; readonly calleeRange: Range; readonly scope: ScopeContext; readonly call: "stage" | "function" }
  /** A key inside a section or an inflation rule: `stride` in `train { stride = 2 }`. */
  | { readonly role: "section-key"; readonly name: string; readonly range: Range; readonly path: readonly string[] }
  | { readonly role: "section-name"; readonly name: string; readonly range: Range; readonly path: readonly string[] }
  | { readonly role: "alias"; readonly name: string; readonly range: Range; readonly stage: A.Stage }
  | { readonly role: "member"; readonly name: string; readonly range: Range };

export interface ImportInfo {
  readonly decl: A.ImportDecl;
  readonly ident: A.Ident;
  /** Absolute path of the imported file (resolved like the loader does; it may not exist). */
  readonly target: string | undefined;
}

/** The index of one file. */
export interface ModuleIndex {
  readonly file: string;
  readonly ast: A.SpecFile;
  /** Blocks, networks and top-level constants, by name (the first wins, like the checker). */
  readonly topLevel: ReadonlyMap<string, Definition>;
  readonly imports: ReadonlyMap<string, ImportInfo>;
  readonly definitions: readonly Definition[];
  /** Sorted by start offset. */
  readonly occurrences: readonly Occurrence[];
}

/** Resolves an import path the way `loadProgram` does (relative to the importing file, `.vnet` added). */
export function resolveImportPath(file: string, spec: string): string | undefined {
  if (!spec) return undefined;
  return path.resolve(path.dirname(file), spec.endsWith(".vnet") ? spec : `${spec}.vnet`);
}

/** Builds the index of a parsed file. Never throws on partial trees. */
export function indexModule(file: string, ast: A.SpecFile): ModuleIndex {
  const topLevel = new Map<string, Definition>();
  const imports = new Map<string, ImportInfo>();
  const definitions: Definition[] = [];
  const occurrences: Occurrence[] = [];

  const define = (d: Definition) => {
    if (!d.name) return;
    definitions.push(d);
    occurrences.push({ role: "definition", name: d.name, range: d.nameRange, definition: d });
  };
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
            if (arg.name?.name) occurrences.push({ role: "argument-name", name: arg.name.name, range: arg.name.range, callee: calleeName, calleeRange: e.callee.range, scope: s, call: "function" });
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
      if (scope.container && stage.variable.name) {
        define({ name: stage.variable.name, kind: "loop", file, nameRange: stage.variable.range, declRange: stage.range, container: scope.container, scopeRange: stage.range, node: stage });
      }
      const inner: ScopeContext = { ...scope, loops: [...scope.loops, stage] };
      stage.body.forEach((s, i) => walkStage(s, inner, stage.body, i));
    } else {
      reference(stage.callee.name, stage.callee.range, scope, "stage", { stage, pipeline, position, ...(owner ? { owner } : {}) });
      for (const arg of stage.args ?? []) {
        if (arg.name?.name) occurrences.push({ role: "argument-name", name: arg.name.name, range: arg.name.range, callee: stage.callee.name, calleeRange: stage.callee.range, scope, call: "stage" });
        walkExpr(arg.value, scope);
      }
      stage.body?.forEach((s, i) => walkStage(s, scope, stage.body!, i));
    }
    if (stage.alias?.name) occurrences.push({ role: "alias", name: stage.alias.name, range: stage.alias.range, stage });
  };

  const walkSection = (section: A.Section, parents: readonly string[], scope: ScopeContext) => {
    const here = [...parents, section.name.name];
    if (section.name.name) occurrences.push({ role: parents.length === 0 ? "section-name" : "section-key", name: section.name.name, range: section.name.range, path: here });
    for (const entry of section.entries) {
      if (entry.kind === "Section") walkSection(entry, here, scope);
      else {
        for (const key of entry.names) if (key.name) occurrences.push({ role: "section-key", name: key.name, range: key.range, path: here });
        walkExpr(entry.value, scope);
      }
    }
  };

  const walkStatements = (statements: readonly A.Statement[], container: A.BlockDecl | A.NetworkDecl) => {
    const scope: ScopeContext = { container, loops: [] };
    for (const s of statements) {
      switch (s.kind) {
        case "Input":
          define({ name: s.name.name, kind: "input", file, nameRange: s.name.range, declRange: s.range, container, node: s });
          walkExpr(s.value, scope);
          break;
        case "Stream": {
          const d: Definition = { name: s.name.name, kind: "stream", file, nameRange: s.name.range, declRange: s.range, container, node: s };
          define(d);
          walkExpr(s.value, scope, d);
          break;
        }
        case "Binding": {
          const defs: Definition[] = s.names.map((n) => ({ name: n.name, kind: "binding", file, nameRange: n.range, declRange: s.range, container, node: s }));
          defs.forEach(define);
          walkExpr(s.value, scope, defs.length === 1 ? defs[0] : undefined);
          break;
        }
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
        const target = resolveImportPath(file, item.path.value);
        for (const n of item.names) {
          if (!n.name) continue;
          if (!imports.has(n.name)) imports.set(n.name, { decl: item, ident: n, target });
          occurrences.push({ role: "import-name", name: n.name, range: n.range, decl: item, target });
        }
        if (item.path.raw) occurrences.push({ role: "import-path", name: item.path.value, range: item.path.range, decl: item, target });
        break;
      }
      case "Block": {
        const d: Definition = { name: item.name.name, kind: "block", file, nameRange: item.name.range, declRange: item.range, node: item };
        define(d);
        if (d.name && !topLevel.has(d.name)) topLevel.set(d.name, d);
        const scope: ScopeContext = { container: item, loops: [] };
        for (const p of item.params) {
          define({ name: p.name.name, kind: "param", file, nameRange: p.name.range, declRange: p.range, container: item, node: p });
          walkExpr(p.defaultValue, scope);
        }
        walkStatements(item.body, item);
        break;
      }
      case "Network": {
        const d: Definition = { name: item.name.name, kind: "network", file, nameRange: item.name.range, declRange: item.range, node: item };
        define(d);
        if (d.name && !topLevel.has(d.name)) topLevel.set(d.name, d);
        walkStatements(item.body, item);
        break;
      }
      case "Binding":
        for (const n of item.names) {
          const d: Definition = { name: n.name, kind: "const", file, nameRange: n.range, declRange: item.range, node: item };
          define(d);
          if (d.name && !topLevel.has(d.name)) topLevel.set(d.name, d);
        }
        walkExpr(item.value, { loops: [] });
        break;
    }
  }
  occurrences.sort((a, b) => a.range.start - b.range.start);
  return { file, ast, topLevel, imports, definitions, occurrences };
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

/** Names visible at an offset inside a container: its locals (defined anywhere in it) and live loop variables. */
export function localsAt(index: ModuleIndex, container: A.BlockDecl | A.NetworkDecl | undefined, offset: number): Definition[] {
  if (!container) return [];
  return index.definitions.filter((d) => d.container === container && (d.kind !== "loop" || (d.scopeRange!.start <= offset && offset <= d.scopeRange!.end)));
}

/** Looks up other files' indexes (open buffers first, then disk). */
export type IndexLookup = (file: string) => ModuleIndex | undefined;

/**
 * Resolves a value or stage reference the way the checker does: loop variables, then the
 * container's locals (the nearest definition before the mention, else any), then top-level
 * names, then imports (followed into the imported file).
 */
export function resolveReference(index: ModuleIndex, occurrence: Extract<Occurrence, { role: "reference" }>, lookup: IndexLookup): Definition | ImportInfo | undefined {
  const { name, scope } = occurrence;
  if (occurrence.usage === "value" && scope.container) {
    for (let i = scope.loops.length - 1; i >= 0; i--) {
      const loop = scope.loops[i]!;
      if (loop.variable.name === name) return index.definitions.find((d) => d.kind === "loop" && d.node === loop);
    }
    const locals = index.definitions.filter((d) => d.container === scope.container && d.name === name && d.kind !== "loop");
    const before = locals.filter((d) => d.nameRange.start <= occurrence.range.start);
    const local = before[before.length - 1] ?? locals[0];
    if (local) return local;
  }
  return resolveTopLevel(index, name, lookup);
}

/** A top-level name of this file, or the definition an import brings in (or the import itself when unresolved). */
export function resolveTopLevel(index: ModuleIndex, name: string, lookup: IndexLookup): Definition | ImportInfo | undefined {
  const own = index.topLevel.get(name);
  if (own) return own;
  const imported = index.imports.get(name);
  if (!imported) return undefined;
  const target = imported.target ? lookup(imported.target) : undefined;
  return target?.topLevel.get(name) ?? imported;
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
