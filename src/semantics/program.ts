/**
 * Loads spec files and their imports into a program: one parsed module per file, imports resolved
 * relative to the importing file and confined to the project root. Reading files is the only I/O,
 * and it goes through a host so the language server can serve unsaved editor buffers.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SpecFile } from "../syntax/ast.js";
import { parseSpec } from "../syntax/parse.js";

export interface Host {
  /** Returns the file's text, or undefined when it does not exist or cannot be read. */
  readFile(file: string): string | undefined;
  /** Why `readFile` returned nothing ("is a directory"), when the host can tell. */
  whyUnreadable?(file: string): string | undefined;
  /** The file's path with symbolic links resolved; hosts without links leave it as it is. */
  realpath?(file: string): string;
}

/** What a path is when it is not a regular file, in words. */
function describeKind(stat: fs.Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a regular file";
}

/**
 * The disk. Only regular files are read: opening a FIFO or a device would block or never end.
 */
export const nodeHost: Host = {
  readFile(file) {
    try {
      if (!fs.statSync(file).isFile()) return undefined;
      return fs.readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
  },
  whyUnreadable(file) {
    try {
      const stat = fs.statSync(file);
      return stat.isFile() ? undefined : `it is ${describeKind(stat)}, not a file`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return "it does not exist";
      if (code === "EACCES" || code === "EPERM") return "permission denied";
      if (code === "ELOOP") return "its symbolic links form a loop";
      return code ? `${code.toLowerCase()}` : undefined;
    }
  },
  realpath(file) {
    // The nearest existing ancestor's real path, then the rest as written: a missing file cannot
    // be resolved itself, but the folders that lead to it can.
    const rest: string[] = [];
    let at = path.resolve(file);
    for (;;) {
      try {
        return path.join(fs.realpathSync.native(at), ...rest);
      } catch {
        const parent = path.dirname(at);
        if (parent === at) return path.resolve(file);
        rest.unshift(path.basename(at));
        at = parent;
      }
    }
  },
};

export interface Module {
  readonly file: string;
  readonly text: string;
  readonly ast: SpecFile;
  /** Resolved absolute path per import declaration index (undefined when it failed). */
  readonly imports: ReadonlyMap<number, string | undefined>;
}

export interface Program {
  readonly root: string;
  readonly modules: ReadonlyMap<string, Module>;
  readonly entries: readonly string[];
  readonly diagnostics: Diagnostic[];
}

/** Files larger than this are refused before lexing. */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** The nearest ancestor holding package.json, vnet.json or .git; the file's own folder otherwise. */
export function findProjectRoot(file: string): string {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    for (const marker of ["vnet.json", "package.json", ".git"]) {
      if (fs.existsSync(path.join(dir, marker))) return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.dirname(path.resolve(file));
    dir = parent;
  }
}

export function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** The file an import names: relative to the importing file, with `.vnet` added when missing. */
export function resolveImportPath(fromFile: string, spec: string): string | undefined {
  if (!spec) return undefined;
  return path.resolve(path.dirname(fromFile), spec.endsWith(".vnet") ? spec : `${spec}.vnet`);
}

/**
 * Whether an import target stays inside the project: as written and with symbolic links
 * resolved, so a link inside the project cannot lead out of it.
 */
export function importStaysInside(root: string, target: string, host: Host): boolean {
  if (!isInside(root, target)) return false;
  if (!host.realpath) return true;
  return isInside(host.realpath(root), host.realpath(target));
}

/** Parses the entry files and, transitively, every file they import. */
export function loadProgram(entries: readonly string[], options: { root?: string; host?: Host } = {}): Program {
  const host = options.host ?? nodeHost;
  const absEntries = entries.map((e) => path.resolve(e));
  const root = path.resolve(options.root ?? (absEntries[0] ? findProjectRoot(absEntries[0]) : process.cwd()));
  const modules = new Map<string, Module>();
  const diagnostics: Diagnostic[] = [];
  const queue = [...absEntries];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (modules.has(file)) continue;
    const text = host.readFile(file);
    if (text === undefined) {
      if (absEntries.includes(file)) {
        const why = host.whyUnreadable?.(file);
        diagnostics.push({ code: "VN031", severity: "error", message: `cannot read \`${file}\`${why ? `: ${why}` : ""}`, file, range: { start: 0, end: 0 } });
      }
      continue;
    }
    const parsed =
      text.length > MAX_FILE_BYTES
        ? {
            ast: { kind: "File" as const, items: [], comments: [], range: { start: 0, end: text.length } },
            diagnostics: [
              {
                code: "VN004",
                severity: "error" as const,
                message: `file is ${text.length} characters; vnet reads specs up to ${MAX_FILE_BYTES}`,
                file,
                range: { start: 0, end: 0 },
              },
            ],
          }
        : parseSpec(text, file);
    for (const d of parsed.diagnostics) diagnostics.push({ ...d, file });
    const imports = new Map<number, string | undefined>();
    parsed.ast.items.forEach((item, index) => {
      if (item.kind !== "Import") return;
      const spec = item.path.value;
      const target = resolveImportPath(file, spec);
      if (target === undefined) return;
      // Checked before the file is read: nothing outside the project is opened, let alone shown.
      if (!importStaysInside(root, target, host)) {
        diagnostics.push({
          code: "VN033",
          severity: "error",
          message: `import \`${spec}\` resolves outside the project root`,
          file,
          range: item.path.range,
          hint: isInside(root, target)
            ? "a symbolic link on the way leads out of the project; copy the file into it"
            : "imports must stay inside the project (the nearest folder above the spec with vnet.json, package.json or .git); copy the file into it",
        });
        imports.set(index, undefined);
        return;
      }
      if (host.readFile(target) === undefined) {
        diagnostics.push({
          code: "VN031",
          severity: "error",
          message: `import \`${spec}\` not found (looked for \`${path.relative(root, target) || target}\`)`,
          file,
          range: item.path.range,
          hint: 'paths are relative to the importing file, e.g. "./lib/resnet.vnet"',
        });
        imports.set(index, undefined);
        return;
      }
      imports.set(index, target);
      queue.push(target);
    });
    modules.set(file, { file, text, ast: parsed.ast, imports });
  }
  return { root, modules, entries: absEntries.filter((e) => modules.has(e)), diagnostics };
}
