/**
 * The checker's budget on large and adversarial specs (scripts/fuzz-large.ts): every kind at a few
 * megabytes must check in seconds with a peak RSS under 1 GB, through the CLI (`vnet check`, its
 * own process, timed and measured by /usr/bin/time) and through the language server (`vnet lsp
 * --stdio`: the time from didOpen to the diagnostics (with the debounce the server gives a file
 * of that size, src/lsp/server.ts debounceFor), the latency of a hover asked right after
 * them, and the server's peak RSS from /proc). Limits are generous for a loaded machine: seconds
 * here are wall time, so note `uptime` beside them.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/adversarial.js [--bytes 3000000] [--only junk,long-sum] [--seconds 10] [--vnet DIR] [--json]
 *
 * `--vnet DIR` runs another checkout's built `bin/vnet.js` (an older commit, for before/after figures).
 *
 * Writes bench/results/adversarial.json; exit status 1 when a case is over the time or memory limit.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import {
  createProtocolConnection,
  DidOpenTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-languageserver-protocol/node.js";
import { LARGE_KINDS, type LargeKind, type LargeSpec } from "../scripts/fuzz-large.js";
import { describeMachine, isMain, machine, parseFlags, repoRoot, table, writeResults } from "./lib/harness.js";

/** The budget of issue 18: a few megabytes in seconds, under 1 GB. */
const RSS_LIMIT_MB = 1024;

/** Writes the spec's files into a fresh project folder; returns the entry's path. */
function writeProject(spec: LargeSpec): { dir: string; entry: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-adversarial-"));
  fs.writeFileSync(path.join(dir, "vnet.json"), "{}");
  const entry = path.join(dir, "main.vnet");
  fs.writeFileSync(entry, spec.text);
  for (const [name, text] of Object.entries(spec.others ?? {})) fs.writeFileSync(path.join(dir, name), text);
  return { dir, entry };
}

interface CliRun {
  readonly seconds: number;
  readonly rssMb: number;
  readonly exit: number | null;
  readonly codes: string[];
}

/** `vnet check --format json` in its own process, under /usr/bin/time for its wall time and peak RSS. */
function runCli(vnet: string, entry: string, limitSeconds: number): CliRun {
  const run = spawnSync("/usr/bin/time", ["-f", "TIME %e %M", process.execPath, vnet, "check", entry, "--format", "json"], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
    timeout: limitSeconds * 10_000,
  });
  const measured = /TIME ([\d.]+) (\d+)/.exec(run.stderr ?? "");
  let codes: string[] = [];
  try {
    codes = [...new Set((JSON.parse(run.stdout) as { diagnostics: { code: string }[] }).diagnostics.map((d) => d.code))];
  } catch {
    codes = [`unreadable output (${(run.stderr ?? "").split("\n").find((l) => l && !l.startsWith("TIME")) ?? run.signal ?? "no output"})`];
  }
  return { seconds: measured ? Number(measured[1]) : Infinity, rssMb: measured ? Number(measured[2]) / 1024 : Infinity, exit: run.status, codes };
}

interface LspRun {
  /** didOpen to the first diagnostics for the file. */
  readonly seconds: number;
  /** A hover sent right after the diagnostics, to its answer. */
  readonly hoverMs: number;
  readonly rssMb: number;
  readonly diagnostics: number;
}

/** The server's peak resident memory, from /proc (Linux). */
function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  return hwm ? Number(hwm[1]) / 1024 : NaN;
}

async function runLsp(vnet: string, dir: string, entry: string, limitSeconds: number): Promise<LspRun> {
  const child = spawn(process.execPath, [vnet, "lsp", "--stdio"], { stdio: ["pipe", "pipe", "ignore"] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const uri = pathToFileURL(entry).href;
  let answered: (count: number) => void = () => {};
  const published = new Promise<number>((resolve) => (answered = resolve));
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    if (params.uri === uri) answered(params.diagnostics.length);
  });
  connection.listen();
  try {
    await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(dir).href,
      capabilities: {},
      initializationOptions: { debounceMs: 0 },
    });
    await connection.sendNotification(InitializedNotification.type, {});
    const text = fs.readFileSync(entry, "utf8");
    const started = performance.now();
    await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "vnet", version: 1, text } });
    // The server may die (the budget this bench checks) or never answer: both end the wait.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no diagnostics within ${limitSeconds * 10} s`)), limitSeconds * 10_000);
      child.on("exit", (code, signal) => reject(new Error(`the server exited (${signal ?? code})`)));
    });
    const diagnostics = await Promise.race([published, timeout]).finally(() => clearTimeout(timer));
    const seconds = (performance.now() - started) / 1000;
    const hoverStarted = performance.now();
    await connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 2, character: 10 } });
    const hoverMs = performance.now() - hoverStarted;
    const rssMb = peakRssMb(child.pid!);
    await connection.sendRequest(ShutdownRequest.type);
    await connection.sendNotification(ExitNotification.type);
    return { seconds, hoverMs, rssMb, diagnostics };
  } finally {
    connection.dispose();
    child.kill();
  }
}

export async function runAdversarial(options: { bytes: number; seconds: number; kinds: readonly LargeKind[]; vnet: string }) {
  const rows = [];
  for (const kind of options.kinds) {
    const spec = kind.make(options.bytes, 1);
    const { dir, entry } = writeProject(spec);
    try {
      const cli = runCli(options.vnet, entry, options.seconds);
      const lsp = await runLsp(options.vnet, dir, entry, options.seconds).catch((error: unknown) => ({
        seconds: Infinity,
        hoverMs: Infinity,
        rssMb: Infinity,
        diagnostics: 0,
        error: String(error),
      }));
      const over = [
        cli.seconds > options.seconds && "cli time",
        cli.rssMb > RSS_LIMIT_MB && "cli memory",
        lsp.seconds > options.seconds && "lsp time",
        lsp.rssMb > RSS_LIMIT_MB && "lsp memory",
        cli.exit !== 0 && cli.exit !== 1 && `cli exit ${cli.exit}`,
      ].filter(Boolean);
      rows.push({ kind: kind.name, bytes: spec.text.length, cli, lsp, status: over.length === 0 ? "PASS" : `FAIL (${over.join(", ")})` });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    bench: "adversarial",
    date: new Date().toISOString(),
    machine: machine(),
    vnet: options.vnet,
    bytes: options.bytes,
    limits: { seconds: options.seconds, rssMb: RSS_LIMIT_MB },
    cases: rows,
  };
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  const only = flags.get("only")?.split(",");
  const kinds = only ? LARGE_KINDS.filter((k) => only.includes(k.name)) : LARGE_KINDS;
  const vnet = path.resolve(flags.get("vnet") ?? repoRoot(), "bin/vnet.js");
  const report = await runAdversarial({ bytes: Number(flags.get("bytes") ?? 3_000_000), seconds: Number(flags.get("seconds") ?? 10), kinds, vnet });
  const file = writeResults(flags.has("vnet") ? "adversarial-other" : "adversarial", report);
  if (flags.has("json")) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(
      `large and adversarial specs at ~${report.bytes} bytes (limits: ${report.limits.seconds} s, ${RSS_LIMIT_MB} MB); machine: ${describeMachine(report.machine)}\n\n`,
    );
    const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "-");
    process.stdout.write(
      `${table(
        ["kind", "bytes", "cli s", "cli MB", "lsp s", "hover ms", "lsp MB", "codes", ""],
        report.cases.map((c) => [
          c.kind,
          String(c.bytes),
          f(c.cli.seconds),
          f(c.cli.rssMb, 0),
          f(c.lsp.seconds),
          f(c.lsp.hoverMs, 0),
          f(c.lsp.rssMb, 0),
          c.cli.codes.join(",").slice(0, 40),
          c.status,
        ]),
      )}\nresults: ${path.relative(process.cwd(), file)}\n`,
    );
  }
  if (report.cases.some((c) => c.status !== "PASS")) process.exitCode = 1;
}
