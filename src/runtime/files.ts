/**
 * The one way vnet writes a file: to a temporary file beside it, flushed, then renamed over it, so
 * a reader or a crash sees the old file or the new one, never half of one; an existing file keeps
 * its permissions, and through a symbolic link the file it points to is replaced. File-system
 * failures become VnetErrors a user can act on (VN111 cannot write here, VN112 the write failed:
 * disk full, quota, I/O) instead of stack traces; the temporary file is always removed.
 *
 * Fault injection for crash-safety tests: `VNET_FAULT=<op>:<n>:<action>[,...]` (or
 * `injectFaults`) makes the n-th call of `op` (`write`, `rename`, `remove`) in this process die
 * on the spot (`kill`: SIGKILL, a crash), stop as a crash would within one process (`crash`: an
 * error nothing handles, so no clean-up runs), or fail with an errno (`ENOSPC`, `EIO`, ...), so a
 * test can stop a checkpoint swap at each of its steps. Nothing reads VNET_FAULT but this module.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { VnetError } from "../diagnostics/error.js";

type FaultOp = "write" | "rename" | "remove";

interface Fault {
  readonly op: FaultOp;
  readonly at: number;
  /** `kill`, or an errno code to fail with. */
  readonly action: string;
}

let faults: Fault[] | undefined;
const calls: Record<FaultOp, number> = { write: 0, rename: 0, remove: 0 };

function parseFaults(text: string): Fault[] {
  return text
    .split(",")
    .filter(Boolean)
    .map((part) => {
      const [op, at, action] = part.split(":");
      if ((op !== "write" && op !== "rename" && op !== "remove") || !/^\d+$/.test(at ?? "") || !action)
        throw new Error(`VNET_FAULT: cannot read \`${part}\` (op:n:action, op write|rename|remove, action kill or an errno such as ENOSPC)`);
      return { op, at: Number(at), action };
    });
}

/** Sets the faults of this process (replacing VNET_FAULT's) and restarts the call counts; `[]` clears them. Tests only. */
export function injectFaults(spec: string | readonly Fault[]): void {
  faults = typeof spec === "string" ? parseFaults(spec) : [...spec];
  calls.write = calls.rename = calls.remove = 0;
}

/** What an injected `crash` throws: no handler catches it, so the files stay as a crash leaves them. */
export class InjectedCrash extends Error {}

function maybeFault(op: FaultOp, file: string): void {
  faults ??= parseFaults(process.env.VNET_FAULT ?? "");
  if (faults.length === 0) return;
  const n = ++calls[op];
  const fault = faults.find((f) => f.op === op && f.at === n);
  if (!fault) return;
  if (fault.action === "kill") process.kill(process.pid, "SIGKILL");
  if (fault.action === "crash") throw new InjectedCrash(`injected crash: ${op} #${n} (${file})`);
  throw Object.assign(new Error(`${fault.action}: injected fault, ${op} ${file}`), { code: fault.action, path: file });
}

const NO_SPACE = new Set(["ENOSPC", "EDQUOT", "EFBIG", "EIO"]);

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is a file, not a directory",
  EEXIST: "it already exists",
  ENOENT: "no such file or directory",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "the name is too long",
  ETXTBSY: "the file is busy",
};

/** Why a file-system call failed, in words (`no such file or directory` for ENOENT); the code itself when it has none. */
export function errnoReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code && REASONS[code]) ?? code ?? (error as Error).message;
}

/** Verbs of reading: their failures are about an input (VN109), the others about an output (VN111). */
const READING = new Set(["read", "open", "list"]);

/**
 * A file-system error as a VnetError about `target`: VN112 for a write that failed (disk full,
 * quota, I/O), VN109 for an input that cannot be read, VN111 for a place that cannot be written;
 * undefined for an error that is none of these.
 */
export function fileSystemError(error: unknown, target: string, what = "write"): VnetError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return undefined;
  if (NO_SPACE.has(code)) {
    const reason =
      code === "ENOSPC"
        ? "no space left on the device"
        : code === "EDQUOT"
          ? "disk quota exceeded"
          : code === "EFBIG"
            ? "file too large for the file system"
            : "I/O error";
    return new VnetError("VN112", `cannot ${what} ${target}: ${reason} (${code}); nothing was replaced`, {
      path: target,
      hint: "free some space (or choose another location) and run the command again",
      cause: error,
    });
  }
  const reason = REASONS[code];
  if (reason === undefined) return undefined;
  return new VnetError(READING.has(what) ? "VN109" : "VN111", `cannot ${what} ${target}: ${reason} (${code})`, { path: target, cause: error });
}

/** Runs a file-system step, turning its failure into a VnetError about `target` where it is one. */
export function guardFileSystem<T>(target: string, what: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw fileSystemError(error, target, what) ?? error;
  }
}

/**
 * `mkdir -p` one level at a time. Node's recursive mkdir never returns on some virtual file
 * systems (a path under /proc loops forever), and each level's failure names the level.
 */
export function makeDirectory(dir: string): void {
  const absolute = path.resolve(dir);
  const missing: string[] = [];
  let existing = absolute;
  while (!fs.existsSync(existing)) {
    missing.unshift(existing);
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  guardFileSystem(dir, "create", () => {
    if (fs.existsSync(existing) && !fs.statSync(existing).isDirectory())
      throw Object.assign(new Error(`ENOTDIR: ${existing} is a file`), { code: "ENOTDIR", path: existing });
    for (const level of missing) {
      try {
        fs.mkdirSync(level);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST" && fs.statSync(level).isDirectory()) continue;
        throw error;
      }
    }
  });
}

let counter = 0;

/** A fresh name for a temporary file or folder beside `target` (hidden, with this process's id). */
export function temporaryPath(target: string, suffix = "tmp"): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}${(counter++).toString(36)}.${suffix}`);
}

/** Writes `data` to a new file and flushes it to the disk (an injectable fault point: `write`). */
export function writeDurable(file: string, data: string | Uint8Array): void {
  maybeFault("write", file);
  const fd = fs.openSync(file, "wx");
  try {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Renames (an injectable fault point: `rename`). */
export function renameDurable(from: string, to: string): void {
  maybeFault("rename", to);
  fs.renameSync(from, to);
}

/** Removes a file or folder tree, if there (an injectable fault point: `remove`). */
export function removeTree(target: string): void {
  maybeFault("remove", target);
  fs.rmSync(target, { recursive: true, force: true });
}

/** Flushes a directory's entries (the renames in it) to the disk, where the platform allows. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some platforms and file systems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /** Flush to the disk before the rename (outputs a user keeps); caches skip it. Default true. */
  readonly durable?: boolean;
  /** Create the file's directory when missing. Default false: a missing directory is an error. */
  readonly createDirectory?: boolean;
}

/**
 * Replaces (or creates) `file` with `data` in one step. Throws VN111 when the place cannot be
 * written and VN112 when the write fails; either way `file` is as it was.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  let target = file;
  try {
    target = fs.realpathSync(file);
  } catch {
    // A new file (or a dangling link, which is then replaced by the file).
  }
  const temp = temporaryPath(target);
  guardFileSystem(target, "write", () => {
    if (options.createDirectory) makeDirectory(path.dirname(target));
    refuseReadOnly(target);
    try {
      if (options.durable === false) {
        maybeFault("write", target);
        fs.writeFileSync(temp, data, { flag: "wx" });
      } else writeDurable(temp, data);
      const mode = existingMode(target);
      if (mode !== undefined) fs.chmodSync(temp, mode);
      renameDurable(temp, target);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
  });
}

/** Whether a file's permissions let nobody write it (root included: vnet does not override what the owner set). */
export function isReadOnly(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) return false;
    if ((stat.mode & 0o222) === 0) return true;
    fs.accessSync(file, fs.constants.W_OK);
    return false;
  } catch (error) {
    return (
      (error as NodeJS.ErrnoException).code === "EACCES" ||
      (error as NodeJS.ErrnoException).code === "EPERM" ||
      (error as NodeJS.ErrnoException).code === "EROFS"
    );
  }
}

/** An existing file its owner made read-only is not replaced behind their back (a rename would). */
export function refuseReadOnly(file: string): void {
  if (isReadOnly(file))
    throw new VnetError("VN111", `cannot write ${file}: the file is read-only`, { path: file, hint: "make it writable (chmod u+w) if it should be replaced" });
}

/**
 * Proves that `dir` takes new files by creating one (hidden, removed at once), since permission
 * bits do not tell (root, read-only mounts, virtual file systems). Throws VN111 or VN112.
 */
export function probeWritable(dir: string): void {
  const probe = temporaryPath(path.join(dir, "write-probe"), "probe");
  guardFileSystem(dir, "write in", () => {
    fs.writeFileSync(probe, "", { flag: "wx" });
    fs.rmSync(probe, { force: true });
  });
}

/**
 * Proves that `dir` could be created (as `makeDirectory` would) and would take files, leaving
 * nothing behind: missing levels are created for the probe and removed again. Throws VN111 or VN112.
 */
export function probeCreatable(dir: string): void {
  let top = path.resolve(dir);
  if (fs.existsSync(top)) return probeWritable(top);
  while (!fs.existsSync(path.dirname(top)) && path.dirname(top) !== top) top = path.dirname(top);
  makeDirectory(dir);
  try {
    probeWritable(dir);
  } finally {
    fs.rmSync(top, { recursive: true, force: true });
  }
}

function existingMode(file: string): number | undefined {
  try {
    return fs.statSync(file).mode & 0o7777;
  } catch {
    return undefined;
  }
}
