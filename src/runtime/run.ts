/**
 * A training run's directory: `metrics.jsonl` (one line per finished epoch), `checkpoint/`
 * (checkpoint.ts), and `train.lock` while a `vnet train` uses it. The lock makes a second trainer
 * on the same run stop at once (VN114) instead of interleaving metrics and checkpoints; the lock
 * of a process that no longer runs (killed, crashed) is taken over. Metrics are appended one line
 * per epoch and, on `--resume`, cut back to the checkpoint's epoch by an atomic rewrite, so a
 * kill at any moment leaves the file whole.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { VnetError } from "../diagnostics/error.js";
import { fileSystemError, guardFileSystem, makeDirectory, temporaryPath, writeFileAtomic } from "./files.js";

export const METRICS_FILE = "metrics.jsonl";
export const LOCK_FILE = "train.lock";

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** The process's start time (Linux: /proc/<pid>/stat field 22), which tells a reused pid apart. */
  readonly startTime?: string;
  readonly since: string;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote a lock still runs (on another host: assumed to, as it cannot be checked). */
function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const now = startTimeOf(owner.pid);
  return owner.startTime === undefined || now === undefined || now === owner.startTime;
}

export interface RunLock {
  readonly runDir: string;
  /** Releases the lock (when every holder in this process has released it). */
  release(): void;
}

const held = new Map<string, { count: number; file: string; created: boolean }>();

/**
 * Locks a run directory for this process (creating the directory, which is removed again on
 * release if nothing was written into it), or throws VN114 when another live `vnet train` holds
 * it. Taking it again in the same process is counted, not refused.
 */
export function lockRun(runDir: string): RunLock {
  const dir = path.resolve(runDir);
  const file = path.join(dir, LOCK_FILE);
  const mine = held.get(dir);
  if (mine) {
    mine.count++;
    return handle(dir);
  }
  const created = !fs.existsSync(dir);
  makeDirectory(dir);
  const owner: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    ...(startTimeOf(process.pid) ? { startTime: startTimeOf(process.pid)! } : {}),
    since: new Date().toISOString(),
  };
  const temp = temporaryPath(file);
  guardFileSystem(dir, "write in", () => fs.writeFileSync(temp, JSON.stringify(owner), { flag: "wx" }));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        // A hard link is created only if nothing has the name: exactly one process wins.
        fs.linkSync(temp, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw fileSystemError(error, dir, "write in") ?? error;
      }
      const other = readOwner(file);
      if (other && ownerAlive(other)) {
        throw new VnetError(
          "VN114",
          `${runDir} is in use by another vnet train (pid ${other.pid}${other.host !== os.hostname() ? ` on ${other.host}` : ""}, since ${other.since})`,
          {
            path: runDir,
            exitCode: 2,
            hint: `wait for it to finish, or train into another directory; if no such process runs, delete ${file}`,
          },
        );
      }
      if (attempt > 2)
        throw new VnetError("VN114", `${runDir}: cannot take over the stale lock ${file}`, {
          path: runDir,
          exitCode: 2,
          hint: `delete ${file} if no vnet train runs on this run`,
        });
      // The owner is gone: move its lock aside (only one taker succeeds) and try again.
      const stale = `${file}.stale-${process.pid}`;
      try {
        fs.renameSync(file, stale);
        fs.rmSync(stale, { force: true });
      } catch {
        // Another process took it over first; the next attempt sees its lock.
      }
    }
  } catch (error) {
    fs.rmSync(temp, { force: true });
    if (created) removeIfEmpty(dir);
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  held.set(dir, { count: 1, file, created });
  return handle(dir);
}

function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Not empty (the run wrote something, which stays), or already gone.
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
  } catch {
    // Gone, or not a lock vnet wrote (locks appear whole, by a link to a complete file): stale.
    return undefined;
  }
}

function handle(dir: string): RunLock {
  let released = false;
  return {
    runDir: dir,
    release() {
      if (released) return;
      released = true;
      const entry = held.get(dir);
      if (!entry || --entry.count > 0) return;
      held.delete(dir);
      const owner = readOwner(entry.file);
      if (owner?.pid === process.pid) fs.rmSync(entry.file, { force: true });
      // A command that failed before writing anything leaves no empty run directory behind.
      if (entry.created) removeIfEmpty(dir);
    },
  };
}

/** Releases every run lock this process holds (on a fatal signal, before exiting). */
export function releaseAllRunLocks(): void {
  for (const [dir, entry] of held) {
    held.delete(dir);
    if (readOwner(entry.file)?.pid === process.pid) fs.rmSync(entry.file, { force: true });
  }
}

/** Whether a directory holds a run: metrics, a checkpoint (or what an interrupted write left), a lock. */
export function isRunDirectory(dir: string): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return false;
  }
  return entries.some((e) => e === METRICS_FILE || e === LOCK_FILE || e === "checkpoint" || e.startsWith("checkpoint."));
}

/** Appends one epoch's metrics as a JSON line. */
export function appendMetrics(runDir: string, metrics: { readonly epoch: number }): void {
  const file = path.join(runDir, METRICS_FILE);
  guardFileSystem(file, "write", () => fs.appendFileSync(file, `${JSON.stringify(metrics)}\n`));
}

/**
 * Keeps the metrics of epochs up to `epoch` (the checkpoint a resumed run continues from) and
 * drops later ones and a torn last line, rewriting the file atomically.
 */
export function truncateMetrics(runDir: string, epoch: number): void {
  const file = path.join(runDir, METRICS_FILE);
  if (!fs.existsSync(file)) return;
  const kept = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => {
      try {
        return line.trim() !== "" && (JSON.parse(line) as { epoch: number }).epoch <= epoch;
      } catch {
        return false;
      }
    });
  writeFileAtomic(file, kept.map((l) => `${l}\n`).join(""));
}

/** Removes a finished run's metrics (a new run starting in the directory). */
export function clearMetrics(runDir: string): void {
  fs.rmSync(path.join(runDir, METRICS_FILE), { force: true });
}
