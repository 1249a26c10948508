/**
 * Language-server latency: time from `didChange` of a 300-line spec to the `publishDiagnostics`
 * that answers it, over the real server on stdio (`node bin/vnet.js lsp --stdio`). Runs twice:
 * with the server's default debounce (what an editor sees) and with debounce 0 (the work itself),
 * and times the in-process check alone for comparison. Target: under 50 ms plus the debounce.
 * Other processes on the machine inflate medians; the minimum shows the unloaded cost.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/lsp-latency.js [--edits 20] [--json]
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-languageserver-protocol/node.js";
import { DEFAULT_DEBOUNCE_MS } from "../src/lsp/server.js";
import { checkFiles } from "../src/semantics/check.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A realistic 300-line spec: residual blocks, a network of bindings, loops, sections, comments. */
export function benchSpec(lines = 300): string {
  const head = [
    "// Generated for the language-server latency bench.",
    "block basic(planes, stride = 1) {",
    "  input x",
    "  y = x -> conv3d(planes, kernel = 3, stride = stride, pad = 1, bias = false) -> bn -> relu",
    "    -> conv3d(planes, kernel = 3, pad = 1, bias = false) -> bn",
    "  shortcut = if stride != 1 or x.channels != planes",
    "    then x -> conv3d(planes, kernel = 1, stride = stride, bias = false) -> bn",
    "    else x",
    "  output [y, shortcut] -> add -> relu",
    "}",
    "",
    "network big {",
    "  classes = 10",
    "  input video = clip(frames = 8, size = 56)",
    "  stream rgb = video -> normalize(mean = [0.45, 0.45, 0.45], std = [0.225, 0.225, 0.225])",
    "  x0 = rgb -> conv3d(16, kernel = [3, 7, 7], stride = [1, 2, 2], pad = [1, 3, 3], bias = false) -> bn -> relu",
  ];
  const tail = [
    "  sampling {",
    '    train { stride = 2, choice = "random", scale = [64, 80], crop = 56, flip = true }',
    '    test { clips = 10, crops = "three", average = "softmax", resize = 64 }',
    "  }",
    '  training { optimizer = "sgd", lr = 0.1, momentum = 0.9, schedule = "cosine", epochs = 50, batch = 32 }',
    "}",
  ];
  const body: string[] = [];
  let n = 0;
  while (head.length + body.length + tail.length + 1 < lines) {
    if (body.length % 10 === 9) {
      body.push(`  // stage ${body.length}`);
      continue;
    }
    const kind = n % 3;
    const line =
      kind === 0
        ? `  x${n + 1} = x${n} -> basic(16)`
        : kind === 1
          ? `  x${n + 1} = x${n} -> conv3d(16, kernel = 3, pad = 1, bias = false) -> bn -> relu`
          : `  x${n + 1} = x${n} -> for i in 0..2 { basic(16) }`;
    body.push(line);
    n++;
  }
  return [...head, ...body, `  output x${n} -> global_avg_pool -> dropout(0.5) -> dense(classes) as fc`, ...tail, ""].join("\n");
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Run {
  readonly debounceMs: number;
  readonly samples: number[];
}

/** Opens the spec in a fresh server and times `edits` edits, each waited on before the next. */
async function measure(file: string, text: string, debounceMs: number, edits: number): Promise<Run> {
  const child = spawn(process.execPath, [path.join(repo, "bin/vnet.js"), "lsp", "--stdio"], { stdio: ["pipe", "pipe", "inherit"] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  let waiting: ((at: number) => void) | undefined;
  connection.onNotification(PublishDiagnosticsNotification.type, () => {
    const at = performance.now();
    const resolve = waiting;
    waiting = undefined;
    resolve?.(at);
  });
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(path.dirname(file)).href,
    capabilities: {},
    initializationOptions: { debounceMs },
  });
  await connection.sendNotification(InitializedNotification.type, {});
  const uri = pathToFileURL(file).href;
  const next = () => new Promise<number>((resolve) => (waiting = resolve));
  const opened = next();
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "vnet", version: 1, text } });
  await opened;

  const lines = text.split("\n");
  const editable = lines.map((l, i) => (/^\s+x\d+ = x\d+ -> conv3d\(16/.test(l) ? i : -1)).filter((i) => i >= 0);
  const samples: number[] = [];
  // Two warm-up edits let V8 optimise the checker before timing, as in a long editing session.
  for (let i = -2; i < edits; i++) {
    const line = editable[(i + 2) % editable.length]!;
    const edited = [...lines];
    // Alternate a width change (still valid) with a typo (one diagnostic), like typing does.
    edited[line] = i % 2 === 0 ? lines[line]!.replace("kernel = 3", "kernel = 1") : lines[line]!.replace("-> relu", "-> reul");
    const published = next();
    const start = performance.now();
    await connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: i + 3 },
      contentChanges: [{ text: edited.join("\n") }],
    });
    const end = await published;
    if (i >= 0) samples.push(end - start);
  }
  await connection.sendRequest(ShutdownRequest.type);
  await connection.sendNotification(ExitNotification.type);
  connection.dispose();
  child.kill();
  return { debounceMs, samples };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const edits = Number(args[args.indexOf("--edits") + 1]) || 20;
  const json = args.includes("--json");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-lsp-bench-"));
  const file = path.join(dir, "big.vnet");
  const text = benchSpec(300);
  fs.writeFileSync(path.join(dir, "vnet.json"), "{}\n");
  fs.writeFileSync(file, text);
  try {
    const direct: number[] = [];
    for (let i = 0; i < edits + 2; i++) {
      const start = performance.now();
      const result = checkFiles([file]);
      if (i >= 2) direct.push(performance.now() - start);
      if (i === 0 && result.diagnostics.some((d) => d.severity === "error"))
        throw new Error(`bench spec has errors: ${result.diagnostics.map((d) => d.message).join("; ")}`);
    }
    const runs = [await measure(file, text, DEFAULT_DEBOUNCE_MS, edits), await measure(file, text, 0, edits)];
    const report = {
      spec: { lines: text.split("\n").length, edits },
      checkInProcessMs: { median: median(direct), p90: percentile(direct, 90), min: Math.min(...direct) },
      didChangeToDiagnosticsMs: runs.map((r) => ({
        debounceMs: r.debounceMs,
        median: median(r.samples),
        p90: percentile(r.samples, 90),
        min: Math.min(...r.samples),
        max: Math.max(...r.samples),
      })),
      targetMs: 50,
    };
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const f = (n: number) => n.toFixed(1).padStart(7);
      process.stdout.write(`vnet lsp latency: ${report.spec.lines}-line spec, median of ${edits} edits\n`);
      process.stdout.write(
        `  check in process (parse + check):        median ${f(report.checkInProcessMs.median)} ms   p90 ${f(report.checkInProcessMs.p90)} ms   min ${f(report.checkInProcessMs.min)} ms\n`,
      );
      for (const r of report.didChangeToDiagnosticsMs) {
        const over = r.median - r.debounceMs;
        process.stdout.write(
          `  didChange -> diagnostics, debounce ${String(r.debounceMs).padStart(3)} ms: median ${f(r.median)} ms   p90 ${f(r.p90)} ms   min ${f(r.min)} ms   (median ${over.toFixed(1)} ms over the debounce; target < ${report.targetMs})\n`,
        );
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
