/**
 * PyTorch beside vnet in the same run: a Python worker (Debian's /usr/bin/python3 with torch, or
 * `--python`) that a benchmark starts once and sends JSON requests, one line each, reading one JSON
 * line back per request. Interleaving the two sides' runs keeps their ratio meaningful on a busy
 * machine. The worker script prints a JSON handshake line first ({torch, threads}); when Python or
 * torch is missing, `startTorch` says why instead of throwing, and the benchmark reports that.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as readline from "node:readline";

/** Debian's Python, which has torch 1.13 on the development VM (the `python3` on PATH may not). */
export const DEFAULT_PYTHON = "/usr/bin/python3";

export interface TorchWorker {
  /** torch.__version__ */
  readonly version: string;
  /** torch.get_num_threads() after the script set it. */
  readonly threads: number;
  /** Sends one request and resolves with the worker's answer to it. */
  request<T>(message: unknown): Promise<T>;
  close(): void;
}

/** Starts `python script ...args`; resolves with the worker or with why there is none. */
export function startTorch(script: string, args: readonly string[], python = DEFAULT_PYTHON): Promise<TorchWorker | { readonly missing: string }> {
  return new Promise((resolve) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(python, [script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    } catch (error) {
      resolve({ missing: `cannot start ${python}: ${(error as Error).message}` });
      return;
    }
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const pending: { resolve: (value: unknown) => void; reject: (error: Error) => void }[] = [];
    let handshake: ((line: string) => void) | undefined = (line) => {
      handshake = undefined;
      const hello = JSON.parse(line) as { torch: string; threads: number };
      resolve({
        version: hello.torch,
        threads: hello.threads,
        request: <T>(message: unknown) =>
          new Promise<T>((res, rej) => {
            pending.push({ resolve: res as (value: unknown) => void, reject: rej });
            child.stdin.write(`${JSON.stringify(message)}\n`);
          }),
        close: () => child.stdin.end(),
      });
    };
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      if (handshake) handshake(line);
      else pending.shift()?.resolve(JSON.parse(line));
    });
    const fail = (why: string) => {
      if (handshake) {
        handshake = undefined;
        resolve({ missing: why });
      }
      for (const p of pending.splice(0)) p.reject(new Error(`the PyTorch worker stopped: ${why}`));
    };
    child.on("error", (error) => fail(`cannot start ${python}: ${error.message}`));
    child.on("exit", (code, signal) => fail(`${python} ${script} exited (${signal ?? code}): ${stderr.trim().split("\n").at(-1) ?? ""}`));
  });
}
