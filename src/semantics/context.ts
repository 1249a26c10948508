/**
 * What every check of one program shares, as graphql-js's `ValidationContext` is for its rules:
 * the program, each file's scope (the one scope provider), the diagnostics so far, and what
 * elaboration learns that later rules read (blocks expanded or applied, imports read, networks
 * checked, constants evaluated). Rules are plain functions over it; they report and never throw.
 */
import type { Diagnostic, Range, RelatedInformation } from "../diagnostics/diagnostic.js";
import type { Code } from "../diagnostics/codes.js";
import type * as A from "../syntax/ast.js";
import type { CheckedNetwork, NetworkInput, SectionValue } from "./network.js";
import type { Module, Program } from "./program.js";
import { importedDefinition, ModuleScope, type Definition } from "./scope.js";
import { didYouMean } from "./suggest.js";
import type { LocalValue, Value } from "./values.js";

export interface ReportExtra {
  readonly hint?: string;
  readonly related?: readonly RelatedInformation[];
  /** An edit that fixes the problem (an editor's quick fix). */
  readonly fix?: Diagnostic["fix"];
}

/** Searches for suggestions among the program's own names per check (see `CheckContext.suggest`). */
export const MAX_SEARCHED_SUGGESTIONS = 500;

export class CheckContext {
  readonly diagnostics: Diagnostic[] = [];
  /** Blocks that were expanded at least once (the rest are checked statically). */
  readonly expandedBlocks = new Set<A.BlockDecl>();
  /** Blocks some elaborated network applied. */
  readonly usedBlocks = new Set<A.BlockDecl>();
  /** Checked networks, memoised (undefined where elaboration failed). */
  readonly networks = new Map<A.NetworkDecl, CheckedNetwork | undefined>();
  /** Networks being elaborated now (an inflation source asked for while it is being checked). */
  readonly networksInProgress = new Set<A.NetworkDecl>();
  /** Values of top-level constants, once evaluated. */
  readonly constants = new Map<A.Binding, Value>();
  readonly constantsInProgress = new Set<A.Binding>();
  private readonly scopes = new Map<string, ModuleScope>();
  /** Imported names elaboration resolved, per importing file. */
  private readonly usedImports = new Map<string, Set<string>>();
  /** Suggestions searched over names that grow with the program (see `suggest`). */
  private suggestions = 0;

  constructor(
    readonly program: Program,
    /** An entry network to elaborate at other input shapes (`InputResize` of check.ts). */
    readonly resize?: { readonly network: string; readonly inputs: ReadonlyMap<string, readonly number[]> },
  ) {
    for (const module of program.modules.values()) {
      this.scopes.set(module.file, new ModuleScope(module.file, module.ast, (_, index) => module.imports.get(index)));
    }
  }

  report(code: Code, severity: "error" | "warning", message: string, file: string, range: Range, extra: ReportExtra = {}): void {
    this.diagnostics.push({
      code,
      severity,
      message,
      file,
      range,
      ...(extra.hint ? { hint: extra.hint } : {}),
      ...(extra.related?.length ? { related: extra.related } : {}),
      ...(extra.fix ? { fix: extra.fix } : {}),
    });
  }

  /** The scope of a file of the program. */
  scopeOf(file: string): ModuleScope {
    return this.scopes.get(file)!;
  }

  moduleOf(file: string): Module {
    return this.program.modules.get(file)!;
  }

  /**
   * What a top-level name of `file` refers to: undefined when nothing there defines or imports
   * it; `{ definition: undefined }` for an import that does not resolve (already reported where
   * the import is). An import is followed into its file and counts as used.
   */
  lookupTop(file: string, name: string): { readonly definition: Definition | undefined } | undefined {
    const found = this.peekTop(file, name);
    if (found && this.scopeOf(file).imports.has(name) && !this.scopeOf(file).topLevel.has(name)) {
      let used = this.usedImports.get(file);
      if (!used) this.usedImports.set(file, (used = new Set()));
      used.add(name);
    }
    return found;
  }

  /** `lookupTop` without counting the import as used (for rules that only inspect). */
  peekTop(file: string, name: string): { readonly definition: Definition | undefined } | undefined {
    const resolution = this.scopeOf(file).resolveTop(name);
    if (!resolution) return undefined;
    if (resolution.kind === "top") return { definition: resolution.definition };
    return { definition: importedDefinition(resolution.imported, (f) => this.scopes.get(f)) };
  }

  /**
   * "Did you mean" over a set of names that grows with the program (a file's locals, blocks or
   * top-level names). Each search is a scan of them; past `MAX_SEARCHED_SUGGESTIONS` searches in
   * one check (a generated file with a hundred thousand unknown names) the rest go without, so
   * the check stays linear. Their diagnostics beyond the report's cap are dropped anyway.
   */
  suggest(word: string, candidates: () => Iterable<string>): string | undefined {
    if (++this.suggestions > MAX_SEARCHED_SUGGESTIONS) return undefined;
    return didYouMean(word, candidates());
  }

  /** Whether elaboration resolved the imported name `name` in `file`. */
  importUsed(file: string, name: string): boolean {
    return this.usedImports.get(file)?.has(name) ?? false;
  }
}

/** A rule over the whole program. */
export type ProgramRule = (context: CheckContext) => void;

/** What the network-level rules read about a network's declarations, besides its graph. */
export interface NetworkFacts {
  readonly decl: A.NetworkDecl;
  readonly module: Module;
  /** Its inputs and streams, in declaration order. */
  readonly inputs: readonly NetworkInput[];
  readonly sections: { readonly [key: string]: { readonly [key: string]: SectionValue } };
  /** `classes` when it is valid. */
  readonly classes: number | undefined;
  /** The network-level local named `name` (its value, where it was declared, whether anything read it). */
  local(name: string): LocalValue | undefined;
}

/** A rule over a network's settings, once its statements ran (before inflation). */
export type NetworkSettingsRule = (context: CheckContext, facts: NetworkFacts) => void;

/** A rule over a network's finished graph. */
export type NetworkGraphRule = (context: CheckContext, network: CheckedNetwork, facts: NetworkFacts) => void;
