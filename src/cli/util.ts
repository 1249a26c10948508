/**
 * What the commands share that needs no tfjs: turning file and directory arguments into specs,
 * rendering diagnostics with code frames, and checking the one network of a spec file a command
 * works on (Langium's `cli-util.ts` beside its `cli.ts`). The data- and model-loading steps of
 * train, eval and predict are in `run-util.ts`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatDiagnostic } from "../diagnostics/codeframe.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { LineIndex } from "../diagnostics/location.js";
import type { IrGraph } from "../ir/graph.js";
import { lowerNetwork } from "../ir/pipeline.js";
import { checkFiles, type CheckResult } from "../semantics/check.js";
import { isInside, nodeHost } from "../semantics/program.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { UsageError } from "./args.js";

/**
 * Expands directories to the .vnet files under them (sorted, skipping node_modules and
 * dot-folders). A folder reached twice through symbolic links (a link to an ancestor, a loop) is
 * walked once; a spec whose links lead out of the directory named is left out (its text is not
 * the project's to show); an entry whose links form a loop or dangle is passed on when it names a
 * spec, so the checker says what it is, and skipped otherwise.
 */
export function expandSpecPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walked = new Set<string>();
  const walk = (p: string, stat: fs.Stats, top: string) => {
    if (!stat.isDirectory()) {
      out.push(p);
      return;
    }
    const real = fs.realpathSync.native(p);
    if (walked.has(real)) return;
    walked.add(real);
    for (const entry of fs.readdirSync(p).sort()) {
      if (entry === "node_modules" || entry.startsWith(".")) continue;
      const child = path.join(p, entry);
      let childStat: fs.Stats | undefined;
      try {
        childStat = fs.statSync(child);
      } catch {
        childStat = undefined;
      }
      if (childStat?.isDirectory()) walk(child, childStat, top);
      else if (entry.endsWith(".vnet") && (!childStat || isInside(top, fs.realpathSync.native(child)))) out.push(child);
    }
  };
  for (const p of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch (error) {
      // A spec named on the command line that cannot be opened is the checker's to describe.
      if ((error as NodeJS.ErrnoException).code === "ELOOP") {
        out.push(p);
        continue;
      }
      throw new UsageError(`no such file or directory: ${p}`);
    }
    walk(p, stat, stat.isDirectory() ? fs.realpathSync.native(p) : p);
  }
  return out;
}

/**
 * A spec whose first line is `// expect: VN020, VN041` is a test case: it passes when checking it
 * yields exactly those codes, in source order (how specs/invalid stays part of `vnet check specs`).
 */
export function declaredExpectation(text: string | undefined): string[] | undefined {
  const first = text?.split(/\r?\n/, 1)[0] ?? "";
  const match = /^\/\/\s*expect:\s*(.*)$/.exec(first);
  return match ? match[1]!.split(/[,\s]+/).filter(Boolean) : undefined;
}

/** A path as the CLI shows it: relative to the working directory. */
export function shownPath(file: string): string {
  return path.relative(process.cwd(), file) || file;
}

/**
 * The line index of each file a report mentions, built once per file: the checked program's texts,
 * else the spec read from disk (files it did not load, such as weights files, get none).
 */
export function lineIndexes(result: CheckResult): (file: string) => LineIndex | undefined {
  const indexes = new Map<string, LineIndex | undefined>();
  return (file) => {
    if (!indexes.has(file)) {
      const text = result.program.modules.get(file)?.text ?? (file.endsWith(".vnet") ? nodeHost.readFile(file) : undefined);
      indexes.set(file, text === undefined ? undefined : new LineIndex(text));
    }
    return indexes.get(file);
  };
}

/** Renders diagnostics with code frames; every location (related ones too) as `path:line:col` relative to the working directory. */
export function renderDiagnostics(diagnostics: readonly Diagnostic[], result: CheckResult, color: boolean): string {
  const lineIndexOf = lineIndexes(result);
  return diagnostics
    .map((d) => {
      const index = lineIndexOf(d.file);
      return formatDiagnostic(d, index?.text, { color, lineIndexOf, showPath: shownPath, ...(index ? { lineIndex: index } : {}) });
    })
    .join("\n\n");
}

/**
 * A spec file checked for a command: the network it works on, its lowered IR graph (what every
 * backend and runtime path reads; lowered here, once per command) and the check result (for rendering).
 */
export interface CheckedSpec {
  readonly file: string;
  readonly network: CheckedNetwork;
  readonly graph: IrGraph;
  readonly result: CheckResult;
}

/**
 * Checks a spec file and picks its one network (`--network` when it defines several). Prints the
 * errors and returns exit code 1 when the spec has errors; a missing file or network is a usage error.
 */
export function checkNetwork(spec: string, networkName: string | undefined, out: (s: string) => void, color: boolean): CheckedSpec | number {
  const file = expandSpecPaths([spec])[0];
  if (file === undefined) throw new UsageError(`${spec} holds no .vnet file`);
  const result = checkFiles([file]);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    out(renderDiagnostics(errors, result, color));
    return 1;
  }
  const networks = result.networks.filter((n) => path.resolve(n.file) === path.resolve(file) && (networkName === undefined || n.name === networkName));
  if (networks.length === 0) throw new UsageError(networkName ? `no network \`${networkName}\` in ${file}` : `${file} defines no network`);
  if (networks.length > 1)
    throw new UsageError(`${file} defines ${networks.length} networks; choose one with --network (${networks.map((n) => n.name).join(", ")})`);
  return { file, network: networks[0]!, graph: lowerNetwork(networks[0]!), result };
}
