/**
 * The `vnet` command line: a thin adapter over the checker. Exit codes: 0 clean, 1 errors in the
 * specs, 2 usage errors. User mistakes never print a stack trace.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatDiagnostic } from "../diagnostics/codeframe.js";
import { CODES } from "../diagnostics/codes.js";
import { hasErrors, type Diagnostic } from "../diagnostics/diagnostic.js";
import { LineIndex } from "../diagnostics/location.js";
import { OPERATORS } from "../ops/catalogue.js";
import { checkFiles, type CheckResult } from "../semantics/check.js";
import { formatSummary, summarize } from "../semantics/summary.js";
import { formatCommand } from "./format-command.js";

const USAGE = `usage: vnet <command> [options]

commands:
  check <files|dirs...> [--format text|json]   check specs; exit 0 clean, 1 errors, 2 usage
  summary <spec> [--network NAME] [--format text|json]
                                               per-layer table: shapes, parameters, MACs
  fmt [--check] <files|dirs...>                format specs in place (or list unformatted ones)
  compile <spec> --target tfjs -o <dir> [--network NAME] [--backend node-gpu|node|wasm|cpu] [--seed N] [--dump-ir]
                                               build the tfjs model; write model.json + weights.bin
  compile <spec> --target onnx -o <model.onnx> [--seed N] [--verify]
                                               export freshly initialised weights to ONNX (opset 17)
  export <spec> --weights <run-dir> -o <model.onnx> [--verify] [--network NAME] [--backend ...]
                                               export trained weights to ONNX; --verify runs it in
                                               ONNX Runtime and reports the max |diff| to tfjs
  predict <model.onnx> (<video file> | --input <video.npy> | --sample builtin:motion[:i]) [--provider auto|cpu|cuda] [--top K]
  predict <spec> --weights <run-dir> --runtime tfjs (<video file> | --input ... | --sample ...) [--backend ...]
                                               top classes of one video, views averaged per the protocol
  train <spec> --data builtin:motion|<folder>|<list> -o <run-dir> [--epochs N] [--batch B] [--lr X] [--optimizer sgd|adam]
        [--schedule constant|step|cosine] [--warmup N] [--weight-decay X] [--train-clips N] [--val-clips N]
        [--val-fraction X] [--seed N] [--backend ...] [--resume | --init <ckpt> [--partial]]
                                               train; metrics.jsonl + a checkpoint per epoch in <run-dir>
        train/eval video loading: [--cache-dir DIR] (default ~/.cache/vnet) [--workers N] [--prefetch N]
  inflate <3d-spec> --from <2d-ckpt> -o <dir> [--dry-run] [--partial] [--seed N]
                                               inflate trained 2D weights by the spec's inflate rules
  weights import <model.onnx> --spec <spec> -o <dir> [--dry-run] [--partial] [--no-verify]
                                               map an ONNX file's weights onto the spec's layers
  eval <spec> --weights <run-dir> --data builtin:motion|<folder>|<list> [--split val|test|train] [--val-clips N] [--seed N]
        [--confusion-png FILE]                 top-1/top-5, per-class accuracy, confusion matrix (spec's test protocol)
  data synth --out <dir> [--variant motion|appearance] [--classes N] [--frames N] [--size N]
        [--train-per-class N] [--val-per-class N] [--seed N] [--fps X]
                                               write builtin:motion as mp4 videos (class folders + list files)
  ops [--format text|json]                     list the operators and their parameters
  codes                                        list the diagnostic codes
  lsp [--stdio]                                run the language server over stdio (editors)
`;

export class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(args: readonly string[], valued: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--")) {
      const [key, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
      if (valued.includes(key)) {
        const value = inline ?? args[++i];
        if (value === undefined) throw new UsageError(`--${key} needs a value`);
        flags.set(key, value);
      } else flags.set(key, true);
    } else positional.push(a);
  }
  return { positional, flags };
}

/** Expands directories to the .vnet files under them (sorted, skipping node_modules). */
export function expandSpecPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new UsageError(`no such file or directory: ${p}`);
    }
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) {
        if (entry === "node_modules" || entry.startsWith(".")) continue;
        const child = path.join(p, entry);
        if (fs.statSync(child).isDirectory()) walk(child);
        else if (entry.endsWith(".vnet")) out.push(child);
      }
    } else out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

function renderDiagnostics(diagnostics: readonly Diagnostic[], result: CheckResult, color: boolean): string {
  const indexes = new Map<string, LineIndex>();
  return diagnostics
    .map((d) => {
      const text = result.program.modules.get(d.file)?.text ?? safeRead(d.file);
      let index = indexes.get(d.file);
      if (!index && text !== undefined) indexes.set(d.file, (index = new LineIndex(text)));
      return formatDiagnostic({ ...d, file: path.relative(process.cwd(), d.file) || d.file }, text, { color, ...(index ? { lineIndex: index } : {}) });
    })
    .join("\n\n");
}

function safeRead(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function jsonDiagnostic(d: Diagnostic, result: CheckResult) {
  const text = result.program.modules.get(d.file)?.text ?? "";
  const index = new LineIndex(text);
  const start = index.positionAt(d.range.start);
  const end = index.positionAt(d.range.end);
  return { ...d, file: path.relative(process.cwd(), d.file) || d.file, start, end };
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

function checkCommand(args: readonly string[], out: (s: string) => void): number {
  const { positional, flags } = parseArgs(args, ["format", "root"]);
  if (positional.length === 0) throw new UsageError("vnet check needs at least one file or directory");
  const format = flags.get("format") ?? "text";
  if (format !== "text" && format !== "json") throw new UsageError(`unknown --format ${String(format)} (text or json)`);
  const files = expandSpecPaths(positional);
  const root = typeof flags.get("root") === "string" ? (flags.get("root") as string) : undefined;
  // Each file is checked as its own entry so one file's failure cannot hide another's.
  const shown: Diagnostic[] = [];
  const all: Diagnostic[] = [];
  const results: CheckResult[] = [];
  const expectations: { file: string; expected: string[]; actual: string[]; met: boolean }[] = [];
  for (const file of files) {
    const result = checkFiles([file], root ? { root } : {});
    results.push(result);
    // Diagnostics located in imported files count too: a block's error may only show when a network expands it.
    const own = result.diagnostics;
    all.push(...own);
    const expected = declaredExpectation(result.program.modules.get(path.resolve(file))?.text);
    if (expected) {
      const actual = result.diagnostics.map((d) => d.code);
      const met = actual.join(",") === expected.join(",");
      expectations.push({ file: path.relative(process.cwd(), file) || file, expected, actual, met });
      if (met) continue;
    }
    shown.push(...own);
  }
  const dedupe = (ds: Diagnostic[]) => [...new Map(ds.map((d) => [`${d.file}:${d.range.start}:${d.range.end}:${d.code}:${d.message}`, d])).values()];
  const unique = dedupe(shown);
  const merged = results[0] ? { ...results[0], program: { ...results[0].program, modules: new Map(results.flatMap((r) => [...r.program.modules])) } } : undefined;
  const unmet = expectations.filter((e) => !e.met);
  if (format === "json") {
    out(JSON.stringify({ files: files.length, diagnostics: merged ? dedupe(all).map((d) => jsonDiagnostic(d, merged)) : [], expectations }, null, 2));
  } else {
    if (unique.length && merged) out(renderDiagnostics(unique, merged, process.stdout.isTTY === true));
    for (const e of unmet) out(`${e.file}: expected diagnostics [${e.expected.join(", ")}] but got [${e.actual.join(", ")}]`);
    const errors = unique.filter((d) => d.severity === "error").length;
    const warnings = unique.filter((d) => d.severity === "warning").length;
    const met = expectations.length - unmet.length;
    out(`${unique.length || unmet.length ? "\n" : ""}checked ${files.length} file(s): ${errors} error(s), ${warnings} warning(s)${expectations.length ? `, ${met} of ${expectations.length} expected-diagnostic case(s) met` : ""}`);
  }
  return hasErrors(unique) || unmet.length > 0 ? 1 : 0;
}

function summaryCommand(args: readonly string[], out: (s: string) => void): number {
  const { positional, flags } = parseArgs(args, ["format", "network", "root"]);
  if (positional.length !== 1) throw new UsageError("vnet summary takes one spec file");
  const format = flags.get("format") ?? "text";
  if (format !== "text" && format !== "json") throw new UsageError(`unknown --format ${String(format)} (text or json)`);
  const file = expandSpecPaths(positional)[0]!;
  const result = checkFiles([file]);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    out(renderDiagnostics(errors, result, process.stdout.isTTY === true));
    return 1;
  }
  const wanted = flags.get("network");
  const networks = result.networks.filter((n) => path.resolve(n.file) === path.resolve(file) && (typeof wanted !== "string" || n.name === wanted));
  if (networks.length === 0) {
    throw new UsageError(typeof wanted === "string" ? `no network \`${wanted}\` in ${file}` : `${file} defines no network`);
  }
  const summaries = networks.map(summarize);
  if (format === "json") out(JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2));
  else out(summaries.map(formatSummary).join("\n\n"));
  return 0;
}

function opsCommand(args: readonly string[], out: (s: string) => void): number {
  const { flags } = parseArgs(args, ["format"]);
  const ops = [...OPERATORS.values()].map((op) => ({ name: op.name, category: op.category, doc: op.doc, inputs: op.inputs, params: op.params.map((p) => ({ name: p.name, type: p.type, default: p.default, doc: p.doc })) }));
  if (flags.get("format") === "json") out(JSON.stringify(ops, null, 2));
  else for (const op of ops) out(`${op.name}(${op.params.map((p) => (p.default === undefined ? p.name : `${p.name} = ${JSON.stringify(p.default)}`)).join(", ")})\n    ${op.doc}`);
  return 0;
}

/** Runs the CLI; returns the exit code. `out`/`err` default to the process streams. */
export async function main(argv: readonly string[], io: { out?: (s: string) => void; err?: (s: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((s: string) => process.stdout.write(`${s}\n`));
  const err = io.err ?? ((s: string) => process.stderr.write(`${s}\n`));
  const [command, ...rest] = argv;
  // What the commands loaded on demand need from the CLI.
  const hooks = {
    expand: expandSpecPaths,
    render: (diagnostics: readonly Diagnostic[], result: CheckResult) => renderDiagnostics(diagnostics, result, process.stdout.isTTY === true),
    usage: (message: string) => new UsageError(message),
  };
  try {
    switch (command) {
      case "check":
        return checkCommand(rest, out);
      case "summary":
        return summaryCommand(rest, out);
      case "fmt":
        return await formatCommand(rest, out, err, (files) => expandSpecPaths(files));
      case "ops":
        return opsCommand(rest, out);
      case "compile":
        // Loaded on demand: only this command pays for loading tfjs.
        return await (await import("./compile-command.js")).compileCommand(rest, out, hooks);
      case "export":
        // Loaded on demand: only export and predict load ONNX Runtime.
        return await (await import("./export-command.js")).exportCommand(rest, out, hooks);
      case "predict":
        return await (await import("./predict-command.js")).predictCommand(rest, out, hooks);
      case "train":
      case "eval":
      case "inflate":
      case "weights": {
        const runHooks = {
          ...hooks,
          progress: (text: string) => process.stderr.write(process.stderr.isTTY ? text : text.replace(/^\r/, "").replace(/^([^\n]*)$/, "")),
        };
        // Loaded on demand, like compile.
        if (command === "train") return await (await import("./train-command.js")).trainCommand(rest, out, runHooks);
        if (command === "inflate") return await (await import("./inflate-command.js")).inflateCommand(rest, out, runHooks);
        if (command === "weights") return await (await import("./weights-command.js")).weightsCommand(rest, out, runHooks);
        return await (await import("./eval-command.js")).evalCommand(rest, out, runHooks);
      }
      case "data":
        // Loaded on demand, like compile.
        return await (await import("./data-command.js")).dataCommand(rest, out, (message) => new UsageError(message));
      case "lsp":
        // Loaded on demand: the other commands never pay for the language-server library.
        return await (await import("../lsp/server.js")).startServer();
      case "codes":
        for (const c of CODES.values()) out(`${c.code}  ${c.severity.padEnd(7)}  ${c.name.padEnd(32)}  ${c.summary}`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        err(`vnet: unknown command \`${command}\`\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err(`vnet: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
