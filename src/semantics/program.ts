/**
 * Loads spec files and their imports into a program: one parsed module per file, imports resolved
 * relative to the importing file and confined to the project root, or (`vnet/...`) to the spec
 * folder of the installed vnet package. Reading files is the only I/O,
 * and it goes through a host so the language server can serve unsaved editor buffers.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SpecFile } from "../syntax/ast.js";
import { parseSpec } from "../syntax/parse.js";
import { vnetPackageRoot } from "../version.js";
import { didYouMean } from "./suggest.js";

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

/**
 * The project a spec belongs to: the nearest folder above it (its own folder first) that holds
 * vnet.json, package.json or .git; the spec's own folder when no ancestor does. Relative imports
 * may not leave it (VN033). `vnet check --root DIR` names it explicitly.
 */
export function findProjectRoot(file: string): string {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    for (const marker of PROJECT_MARKERS) {
      if (fs.existsSync(path.join(dir, marker))) return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.dirname(path.resolve(file));
    dir = parent;
  }
}

/** The files whose folder is a project root, in the order the README lists them. */
export const PROJECT_MARKERS = ["vnet.json", "package.json", ".git"] as const;

export function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** An import path starting with this names a file of the installed vnet package: `vnet/specs/lib/video_resnet.vnet`. */
export const PACKAGE_PREFIX = "vnet/";

/** The folder of the vnet package that package imports may read (the shipped spec library lives in its lib/). */
const PACKAGE_SPECS = "specs";

/** The file an import names: relative to the importing file, with `.vnet` added when missing. */
function resolveImportPath(fromFile: string, spec: string): string | undefined {
  if (!spec) return undefined;
  return path.resolve(path.dirname(fromFile), withExtension(spec));
}

function withExtension(spec: string): string {
  return spec.endsWith(".vnet") ? spec : `${spec}.vnet`;
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

/** Where an import leads, or why it may not be followed. */
export type ImportResolution =
  | {
      readonly ok: true;
      /** The imported file (absolute). */
      readonly target: string;
      /** The root the imported file's own relative imports must stay inside: the importer's, or the vnet package's. */
      readonly root: string;
    }
  | {
      readonly ok: false;
      readonly code: "VN031" | "VN033";
      readonly message: string;
      readonly hint: string;
      /** The file looked for, when the path names one that may be read (an editor may offer to create it). */
      readonly target?: string;
    };

/**
 * Resolves one import of `fromFile`, whose relative imports must stay inside `root`. A path
 * starting with `vnet/` names a file of the running vnet's package (`vnetPackageRoot`) inside its
 * specs/ folder; any other path is relative to the importing file and may not leave `root`.
 * Nothing outside the allowed folder is read: the checks come before the file is opened.
 */
export function resolveImport(fromFile: string, spec: string, root: string, host: Host, packageRoot = vnetPackageRoot()): ImportResolution | undefined {
  if (!spec) return undefined;
  if (spec.startsWith(PACKAGE_PREFIX)) return resolvePackageImport(spec, host, packageRoot);
  const target = resolveImportPath(fromFile, spec)!;
  if (!importStaysInside(root, target, host)) {
    return {
      ok: false,
      code: "VN033",
      message: `import \`${spec}\` resolves outside the project root`,
      hint: isInside(root, target)
        ? "a symbolic link on the way leads out of the project; copy the file into it"
        : `imports must stay inside the project (the nearest folder above the spec with vnet.json, package.json or .git); copy the file into it, or import the shipped library as "${PACKAGE_PREFIX}${PACKAGE_SPECS}/lib/..."`,
    };
  }
  if (host.readFile(target) === undefined) {
    return {
      ok: false,
      code: "VN031",
      message: `import \`${spec}\` not found (looked for \`${path.relative(root, target) || target}\`)`,
      hint: `paths are relative to the importing file, e.g. "./lib/resnet.vnet"; the shipped library is "${PACKAGE_PREFIX}${PACKAGE_SPECS}/lib/..."`,
      target,
    };
  }
  return { ok: true, target, root };
}

function resolvePackageImport(spec: string, host: Host, packageRoot: string | undefined): ImportResolution {
  if (packageRoot === undefined) {
    return {
      ok: false,
      code: "VN031",
      message: `import \`${spec}\` names the vnet package, but the running vnet has no package folder`,
      hint: "run vnet from its installed package (npm install vnet) or its source tree",
    };
  }
  const specs = path.join(packageRoot, PACKAGE_SPECS);
  const target = path.resolve(packageRoot, withExtension(spec.slice(PACKAGE_PREFIX.length)));
  if (!importStaysInside(specs, target, host)) {
    return {
      ok: false,
      code: "VN033",
      message: `import \`${spec}\` leaves the vnet package's spec folder`,
      hint: `a package import names a spec under the package's ${PACKAGE_SPECS}/ folder: ${shippedLibrary(packageRoot)}`,
    };
  }
  if (host.readFile(target) === undefined) {
    const relative = path.relative(packageRoot, target);
    const suggestion = didYouMean(relative, packageSpecPaths(packageRoot));
    return {
      ok: false,
      code: "VN031",
      message: `import \`${spec}\` not found in the vnet package (looked for \`${relative}\` in \`${packageRoot}\`)`,
      hint: `${suggestion ? `${suggestion.replace(/`([^`]+)`/, (_, p: string) => `\`${PACKAGE_PREFIX}${p}\``)} (${shippedLibrary(packageRoot)})` : shippedLibrary(packageRoot)}`,
    };
  }
  return { ok: true, target, root: packageRoot };
}

/** Every spec a package import can name, as written in an import: `vnet/specs/lib/video_resnet.vnet`, ... (the library first). */
export function packageImportPaths(packageRoot = vnetPackageRoot()): string[] {
  if (packageRoot === undefined) return [];
  const paths = packageSpecPaths(packageRoot);
  const lib = paths.filter((p) => p.startsWith(`${PACKAGE_SPECS}/lib/`));
  return [...lib, ...paths.filter((p) => !lib.includes(p))].map((p) => `${PACKAGE_PREFIX}${p}`);
}

/** The package's specs as package-relative paths (specs/x.vnet, specs/lib/y.vnet), sorted. */
function packageSpecPaths(packageRoot: string): string[] {
  const out: string[] = [];
  for (const folder of [PACKAGE_SPECS, `${PACKAGE_SPECS}/lib`]) {
    try {
      for (const entry of fs.readdirSync(path.join(packageRoot, folder)).sort()) if (entry.endsWith(".vnet")) out.push(`${folder}/${entry}`);
    } catch {
      // A package without the folder has nothing in it to suggest.
    }
  }
  return out;
}

/** "the shipped library "vnet/specs/lib/..." holds bmn.vnet, csn.vnet, ...", for hints. */
function shippedLibrary(packageRoot: string): string {
  const lib = packageSpecPaths(packageRoot).filter((p) => p.startsWith(`${PACKAGE_SPECS}/lib/`));
  return lib.length
    ? `the shipped library "${PACKAGE_PREFIX}${PACKAGE_SPECS}/lib/..." holds ${lib.map((p) => path.basename(p)).join(", ")}`
    : `the vnet package at \`${packageRoot}\` ships no ${PACKAGE_SPECS}/lib`;
}

/** Parses the entry files and, transitively, every file they import (`packageRoot`: where `vnet/...` leads, the running vnet's by default). */
export function loadProgram(entries: readonly string[], options: { root?: string; host?: Host; packageRoot?: string } = {}): Program {
  const host = options.host ?? nodeHost;
  const packageRoot = options.packageRoot ?? vnetPackageRoot();
  const absEntries = entries.map((e) => path.resolve(e));
  const root = path.resolve(options.root ?? (absEntries[0] ? findProjectRoot(absEntries[0]) : process.cwd()));
  const modules = new Map<string, Module>();
  // The root each file's relative imports must stay inside: the project's, or the vnet package's
  // for the files a `vnet/...` import reached.
  const roots = new Map<string, string>();
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
      const resolution = resolveImport(file, item.path.value, roots.get(file) ?? root, host, packageRoot);
      if (resolution === undefined) return;
      if (!resolution.ok) {
        diagnostics.push({ code: resolution.code, severity: "error", message: resolution.message, file, range: item.path.range, hint: resolution.hint });
        imports.set(index, undefined);
        return;
      }
      imports.set(index, resolution.target);
      if (!roots.has(resolution.target)) roots.set(resolution.target, resolution.root);
      queue.push(resolution.target);
    });
    modules.set(file, { file, text, ast: parsed.ast, imports });
  }
  return { root, modules, entries: absEntries.filter((e) => modules.has(e)), diagnostics };
}
