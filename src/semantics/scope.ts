/**
 * Name resolution: the one scope provider, used by the checker (elaboration and the static rules)
 * and by the language server (hover, go to definition, rename, completion). It collects every
 * definition of one file and answers what a name means at a place, by the language's rules:
 *
 * 1. a loop variable is visible in its loop's body; the innermost loop wins;
 * 2. a local of a network or block (parameter, input, stream, binding) is visible after its
 *    declaration ends: statements run top to bottom, and block parameters are bound in order, so
 *    a default sees the parameters before it. The first declaration of a name wins (a second one
 *    is VN016);
 * 3. then the file's top-level blocks, networks and constants, in any order (the first wins);
 * 4. then imported names, which the caller follows into the imported file.
 *
 * A local declared further down is reported as `later`, so messages can say "move it up" and
 * editors can still navigate to it. Stage callees (`-> basic(64)`) and inflation sources name
 * top-level definitions only. Built from the AST alone: it works on half-written files.
 */
import type { Range } from "../diagnostics/diagnostic.js";
import type * as A from "../syntax/ast.js";
import { blockExprs, forEachStage, statementExprs } from "../syntax/walk.js";

export type DefinitionKind = "block" | "network" | "const" | "input" | "stream" | "binding" | "param" | "loop";

/** A network or block: what holds locals. */
export type Container = A.BlockDecl | A.NetworkDecl;

/** A name introduced somewhere: a top-level declaration, or a local inside a network or block. */
export interface Definition {
  readonly name: string;
  readonly kind: DefinitionKind;
  readonly file: string;
  /** The identifier that introduces the name. */
  readonly ident: A.Ident;
  readonly nameRange: Range;
  /** The whole declaration (for outlines and hover text). */
  readonly declRange: Range;
  /** The network or block a local lives in; undefined for top-level names. */
  readonly container?: Container;
  /** Where a loop variable is visible (its loop stage). */
  readonly scopeRange?: Range;
  readonly node: A.BlockDecl | A.NetworkDecl | A.Binding | A.InputDecl | A.StreamDecl | A.Param | A.ForStage;
}

/** One name of an `import { ... } from "..."`. */
export interface ImportInfo {
  readonly decl: A.ImportDecl;
  readonly ident: A.Ident;
  /** The file the import names, as the caller resolved it (undefined when it did not resolve). */
  readonly target: string | undefined;
}

/** Where a mention sits: its network or block, and the loop stages around it (outermost first). */
export interface ScopeContext {
  readonly container?: Container;
  readonly loops: readonly A.ForStage[];
}

export type Resolution =
  /** A loop variable, parameter, input, stream or binding in scope. */
  | { readonly kind: "local"; readonly definition: Definition }
  /** A block, network or constant of this file. */
  | { readonly kind: "top"; readonly definition: Definition }
  /** An imported name (its definition is in `imported.target`). */
  | { readonly kind: "import"; readonly imported: ImportInfo }
  /** A local of the container declared after the mention: not visible yet. */
  | { readonly kind: "later"; readonly definition: Definition };

/** The scope of one file. */
export class ModuleScope {
  /** Blocks, networks and top-level constants by name (the first declaration wins). */
  readonly topLevel = new Map<string, Definition>();
  /** Imported names (the first import of a name wins). */
  readonly imports = new Map<string, ImportInfo>();
  /** Every definition, in source order per container. */
  readonly definitions: Definition[] = [];
  private readonly locals = new Map<Container, Map<string, Definition[]>>();
  private readonly localLists = new Map<Container, Definition[]>();
  /** Where each local becomes visible. */
  private readonly visibleFrom = new Map<Definition, number>();
  private readonly loops = new Map<A.ForStage, Definition>();
  private readonly byIdent = new Map<A.Ident, Definition>();

  /**
   * @param importTarget the file an import declaration (item `index` of the file) resolves to;
   *   the checker passes the loader's answer, the language server resolves the path itself.
   */
  constructor(
    readonly file: string,
    readonly ast: A.SpecFile,
    importTarget: (decl: A.ImportDecl, index: number) => string | undefined,
  ) {
    ast.items.forEach((item, index) => {
      switch (item.kind) {
        case "Import": {
          const target = importTarget(item, index);
          for (const ident of item.names) if (ident.name && !this.imports.has(ident.name)) this.imports.set(ident.name, { decl: item, ident, target });
          break;
        }
        case "Block":
          this.top(item.name, "block", item.range, item);
          for (const p of item.params) this.local(item, p.name, "param", p.range, p, p.range.end);
          this.statements(item, item.body);
          this.loopsIn(blockExprs(item), item);
          break;
        case "Network":
          this.top(item.name, "network", item.range, item);
          this.statements(item, item.body);
          this.loopsIn(statementExprs(item.body), item);
          break;
        case "Binding":
          for (const n of item.names) this.top(n, "const", item.range, item);
          this.loopsIn([item.value], undefined);
          break;
      }
    });
  }

  /**
   * What `name` means at offset `at` in `context`. Undefined when nothing defines it. Stage
   * callees and inflation sources are resolved with `resolveTop` instead.
   */
  resolve(name: string, at: number, context: ScopeContext): Resolution | undefined {
    for (let i = context.loops.length - 1; i >= 0; i--) {
      const loop = context.loops[i]!;
      if (loop.variable.name === name) return { kind: "local", definition: this.loops.get(loop)! };
    }
    const locals = context.container ? this.locals.get(context.container)?.get(name) : undefined;
    const visible = locals?.find((d) => this.visibleFrom.get(d)! <= at);
    if (visible) return { kind: "local", definition: visible };
    const top = this.resolveTop(name);
    if (top) return top;
    // Only a declaration that starts after the mention is "later": `x = x -> relu` reads an
    // undefined `x` inside its own declaration.
    const later = locals?.find((d) => d.declRange.start > at);
    return later ? { kind: "later", definition: later } : undefined;
  }

  /** A top-level name of this file, or an imported one. */
  resolveTop(name: string): Extract<Resolution, { kind: "top" | "import" }> | undefined {
    const own = this.topLevel.get(name);
    if (own) return { kind: "top", definition: own };
    const imported = this.imports.get(name);
    return imported ? { kind: "import", imported } : undefined;
  }

  /**
   * The context of an offset of the file, for callers that hold a position rather than a walk:
   * the loops of `container` (or of the top level) whose stage holds the offset.
   */
  contextAt(at: number, container: Container | undefined): ScopeContext {
    const loops: A.ForStage[] = [];
    for (const [stage, d] of this.loops) if (d.container === container && stage.range.start <= at && at <= stage.range.end) loops.push(stage);
    loops.sort((a, b) => a.range.start - b.range.start);
    return container ? { container, loops } : { loops };
  }

  /** The locals readable at `at` in `context`: its loops' variables and the container's locals declared before. */
  visibleLocals(at: number, context: ScopeContext): Definition[] {
    const out = context.loops.map((l) => this.loops.get(l)).filter((d): d is Definition => d !== undefined && d.name !== "");
    for (const d of this.declaredBefore(at, context)) out.push(d);
    return out;
  }

  /** Names a mention at `at` could have meant: visible locals, loop variables, top-level and imported names (lazily; a name may repeat). */
  *visibleNames(at: number, context: ScopeContext): Generator<string> {
    for (const loop of context.loops) if (loop.variable.name) yield loop.variable.name;
    for (const d of this.declaredBefore(at, context)) yield d.name;
    yield* this.topLevel.keys();
    yield* this.imports.keys();
  }

  /** The container's parameters and statement locals declared before `at`, in order. */
  private *declaredBefore(at: number, context: ScopeContext): Generator<Definition> {
    if (!context.container) return;
    // Parameters and statements come in source order, so they become visible in order: the first
    // one not yet visible ends the walk (loop variables, listed last, are the context's).
    for (const d of this.localsOf(context.container)) {
      if (d.kind === "loop" || this.visibleFrom.get(d)! > at) return;
      yield d;
    }
  }

  /** The definition an identifier introduces (a declaration's name, a parameter, a loop variable). */
  definitionOf(ident: A.Ident): Definition | undefined {
    return this.byIdent.get(ident);
  }

  /** Every local of a network or block: parameters and statements in order, then loop variables. */
  localsOf(container: Container): readonly Definition[] {
    return this.localLists.get(container) ?? [];
  }

  private top(ident: A.Ident, kind: "block" | "network" | "const", declRange: Range, node: Definition["node"]): void {
    const d = this.add({ name: ident.name, kind, file: this.file, ident, nameRange: ident.range, declRange, node });
    if (d && !this.topLevel.has(d.name)) this.topLevel.set(d.name, d);
  }

  private local(container: Container, ident: A.Ident, kind: DefinitionKind, declRange: Range, node: Definition["node"], visibleFrom: number): void {
    const d = this.add({ name: ident.name, kind, file: this.file, ident, nameRange: ident.range, declRange, container, node });
    if (!d) return;
    this.visibleFrom.set(d, visibleFrom);
    let byName = this.locals.get(container);
    if (!byName) this.locals.set(container, (byName = new Map()));
    const list = byName.get(d.name);
    if (list) list.push(d);
    else byName.set(d.name, [d]);
  }

  private statements(container: Container, body: readonly A.Statement[]): void {
    for (const s of body) {
      if (s.kind === "Input") this.local(container, s.name, "input", s.range, s, s.range.end);
      else if (s.kind === "Stream") this.local(container, s.name, "stream", s.range, s, s.range.end);
      else if (s.kind === "Binding") for (const n of s.names) this.local(container, n, "binding", s.range, s, s.range.end);
    }
  }

  private loopsIn(exprs: readonly A.Expr[], container: Container | undefined): void {
    for (const e of exprs) {
      forEachStage(e, (stage) => {
        if (stage.kind !== "ForStage") return;
        const d: Definition = {
          name: stage.variable.name,
          kind: "loop",
          file: this.file,
          ident: stage.variable,
          nameRange: stage.variable.range,
          declRange: stage.range,
          scopeRange: stage.range,
          node: stage,
          ...(container ? { container } : {}),
        };
        this.loops.set(stage, d);
        this.add(d);
      });
    }
  }

  private add(d: Definition): Definition | undefined {
    if (!d.name) return undefined;
    this.definitions.push(d);
    this.byIdent.set(d.ident, d);
    if (d.container) {
      const list = this.localLists.get(d.container);
      if (list) list.push(d);
      else this.localLists.set(d.container, [d]);
    }
    return d;
  }
}

/** The definition an import brings in, looked up in the imported file's scope. */
export function importedDefinition(imported: ImportInfo, scopeOf: (file: string) => ModuleScope | undefined): Definition | undefined {
  return imported.target ? scopeOf(imported.target)?.topLevel.get(imported.ident.name) : undefined;
}
