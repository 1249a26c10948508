/**
 * The server's view of the files: open editor buffers first, the disk second. Checks go through
 * a Host over this view, so unsaved edits are what gets checked, and a file deleted on disk stays
 * checkable while it is open.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { checkProgram, type CheckResult } from "../semantics/check.js";
import { findProjectRoot, isInside, loadProgram, nodeHost, resolveImport, type Host } from "../semantics/program.js";
import { parseSpec, type ParseResult } from "../syntax/parse.js";
import { indexModule, type ModuleIndex } from "./module-index.js";

/** One check of one open file as the entry point, with everything it imports. */
export interface Analysis {
  readonly file: string;
  /** The entry's text the check saw, so requests can tell whether it is current. */
  readonly text: string;
  readonly result: CheckResult;
  /** Set when the checker itself failed; the diagnostics then come from the parser alone. */
  readonly internalError?: string;
}

interface Parsed {
  readonly text: string;
  /** The parse, without its token list (nothing here reads it, and it is the largest part). */
  readonly parse: Omit<ParseResult, "tokens">;
  readonly index: ModuleIndex;
}

/** Directory that stands in for documents without a file path (untitled buffers). */
const UNTITLED_DIR = path.resolve("/", "__vnet_untitled__");

export class Workspace {
  /** Open buffers by absolute path. */
  private readonly open = new Map<string, { uri: string; text: string; version: number }>();
  private readonly parsed = new Map<string, Parsed>();
  private readonly analyses = new Map<string, Analysis>();

  /** Reads open buffers first, then the disk. */
  readonly host: Host = {
    readFile: (file) => this.open.get(file)?.text ?? nodeHost.readFile(file),
    whyUnreadable: (file) => (this.open.has(file) ? undefined : nodeHost.whyUnreadable!(file)),
    realpath: (file) => nodeHost.realpath!(file),
  };

  constructor(private readonly log: (message: string) => void = () => {}) {}

  /** Absolute path for a document URI; untitled buffers get a stable stand-in path. */
  pathOf(uri: string): string {
    if (uri.startsWith("file:")) {
      try {
        return path.resolve(fileURLToPath(uri));
      } catch {
        // A malformed file URI falls through to the stand-in path below.
      }
    }
    const safe = uri.replace(/[^A-Za-z0-9_.-]+/g, "_").slice(-120);
    return path.join(UNTITLED_DIR, safe.endsWith(".vnet") ? safe : `${safe}.vnet`);
  }

  /** The URI the client uses for a path (the one it opened the file with, when open). */
  uriOf(file: string): string {
    return this.open.get(file)?.uri ?? pathToFileURL(file).href;
  }

  setOpen(uri: string, text: string, version: number): string {
    const file = this.pathOf(uri);
    this.open.set(file, { uri, text, version });
    return file;
  }

  close(uri: string): string {
    const file = this.pathOf(uri);
    this.open.delete(file);
    this.analyses.delete(file);
    this.parsed.delete(file);
    return file;
  }

  isOpen(file: string): boolean {
    return this.open.has(file);
  }

  openFiles(): string[] {
    return [...this.open.keys()];
  }

  textOf(file: string): string | undefined {
    return this.host.readFile(file);
  }

  /** Parse tree and name index of a file's current text (cached per text). */
  parsedOf(file: string): Parsed | undefined {
    const text = this.textOf(file);
    if (text === undefined) return undefined;
    const cached = this.parsed.get(file);
    if (cached && cached.text === text) return cached;
    const { ast, diagnostics } = parseSpec(text, file);
    const entry: Parsed = { text, parse: { ast, diagnostics }, index: indexModule(file, ast, (spec) => this.importTarget(file, spec)) };
    // Closed files are re-read from disk each time, so only open files need a lasting cache entry.
    if (this.open.has(file) || this.parsed.size < 256) this.parsed.set(file, entry);
    return entry;
  }

  indexOf = (file: string): ModuleIndex | undefined => this.parsedOf(file)?.index;

  /**
   * The file an import in `file` names, when the checker would follow it (inside the project, or
   * a `vnet/...` spec of the installed package), or would look for it there.
   */
  importTarget(file: string, spec: string): string | undefined {
    const resolution = resolveImport(file, spec, this.rootOf(file), this.host);
    return resolution?.ok ? resolution.target : resolution?.target;
  }

  /** Checks an open file as the entry point. Never throws. */
  analyze(file: string): Analysis {
    const text = this.textOf(file) ?? "";
    try {
      const root = file.startsWith(UNTITLED_DIR) ? UNTITLED_DIR : findProjectRoot(file);
      const result = checkProgram(loadProgram([file], { host: this.host, root }));
      // The check parsed every file it read: requests that follow (hover, completion) reuse those
      // trees instead of parsing a large file a second time on the request path.
      for (const module of result.program.modules.values()) {
        if (!this.open.has(module.file) || this.parsed.get(module.file)?.text === module.text) continue;
        const diagnostics = result.program.diagnostics.filter((d) => d.file === module.file);
        this.parsed.set(module.file, {
          text: module.text,
          parse: { ast: module.ast, diagnostics },
          index: indexModule(module.file, module.ast, (spec) => this.importTarget(module.file, spec)),
        });
      }
      const analysis: Analysis = { file, text, result };
      this.analyses.set(file, analysis);
      return analysis;
    } catch (error) {
      // A checker fault must not take the editor down: report what the parser alone sees.
      const message = error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error);
      this.log(`vnet: the checker failed on ${file}: ${message}`);
      const parse = parseSpec(text, file);
      const diagnostics: Diagnostic[] = [
        ...parse.diagnostics,
        {
          code: "internal",
          severity: "error",
          message: `internal checker error: ${error instanceof Error ? error.message : String(error)}`,
          file,
          range: { start: 0, end: 0 },
        },
      ];
      const result: CheckResult = {
        program: { root: path.dirname(file), modules: new Map([[file, { file, text, ast: parse.ast, imports: new Map() }]]), entries: [file], diagnostics },
        networks: [],
        diagnostics,
      };
      const analysis: Analysis = { file, text, result, internalError: message };
      this.analyses.set(file, analysis);
      return analysis;
    }
  }

  /** The analysis of an open file, re-run first when its text or anything it imports changed. */
  currentAnalysis(file: string): Analysis | undefined {
    if (!this.open.has(file)) return undefined;
    const analysis = this.analyses.get(file);
    if (analysis && this.isCurrent(analysis)) return analysis;
    return this.analyze(file);
  }

  private isCurrent(analysis: Analysis): boolean {
    for (const module of analysis.result.program.modules.values()) {
      if (this.textOf(module.file) !== module.text) return false;
    }
    return this.textOf(analysis.file) === analysis.text;
  }

  /** Every stored analysis (one per open file that has been checked). */
  allAnalyses(): Analysis[] {
    return [...this.analyses.values()];
  }

  /** Open files whose last check read `file` (including the file itself). */
  dependentsOf(file: string): string[] {
    const out = new Set<string>();
    if (this.open.has(file)) out.add(file);
    for (const analysis of this.analyses.values()) {
      if (analysis.result.program.modules.has(file) || analysis.file === file) out.add(analysis.file);
      // An import that failed to resolve may now resolve to this file: check it again too.
      if (analysis.result.diagnostics.some((d) => d.code === "VN031" || d.code === "VN034")) out.add(analysis.file);
    }
    return [...out].filter((f) => this.open.has(f));
  }

  /** Every .vnet file under a project root (for rename), skipping dependency and hidden folders. */
  projectFiles(root: string, limit = 5000): string[] {
    const out = new Set<string>(this.openFiles().filter((f) => isInside(root, f)));
    const walk = (dir: string, depth: number) => {
      if (out.size >= limit || depth > 32) return;
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (entry.name === "node_modules" || entry.name.startsWith(".") || entry.name === "dist") continue;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full, depth + 1);
        else if (entry.isFile() && entry.name.endsWith(".vnet")) out.add(full);
      }
    };
    if (!root.startsWith(UNTITLED_DIR)) walk(root, 0);
    return [...out];
  }

  rootOf(file: string): string {
    return file.startsWith(UNTITLED_DIR) ? UNTITLED_DIR : findProjectRoot(file);
  }
}
