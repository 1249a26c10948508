/**
 * The ffmpeg binary vnet decodes and encodes with: `$VNET_FFMPEG`, else a system `ffmpeg` on the
 * PATH (usually newer, with the system's codecs), else the static build that the
 * `@ffmpeg-installer/ffmpeg` package ships. Also a small runner for one-shot ffmpeg calls.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { DataError } from "../issues.js";

let located: string | undefined;

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Path of the ffmpeg binary (see the file comment); throws VN098 when there is none. */
export function ffmpegPath(): string {
  if (located) return located;
  const override = process.env.VNET_FFMPEG;
  if (override) {
    if (!executable(override)) throw new DataError("VN098", override, "VNET_FFMPEG does not name an executable file");
    return (located = override);
  }
  const name = process.platform === "win32" ? "ffmpeg.exe" : "ffmpeg";
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return (located = path.join(dir, name));
  }
  try {
    // The package throws (a string) on platforms it has no binary for.
    const installed = (createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path: string }).path;
    if (executable(installed)) return (located = installed);
  } catch {
    // Reported below.
  }
  throw new DataError(
    "VN098",
    "ffmpeg",
    "no ffmpeg found: install ffmpeg on the PATH, set VNET_FFMPEG, or reinstall @ffmpeg-installer/ffmpeg for this platform",
  );
}

export interface FfmpegRun {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs ffmpeg to completion with optional stdin data; never rejects on a non-zero exit. */
export function runFfmpeg(args: readonly string[], input?: Buffer): Promise<FfmpegRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ["-hide_banner", "-nostdin", ...args], { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (d: Buffer) => out.push(d));
    child.stderr!.on("data", (d: Buffer) => err.push(d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") }));
    if (input) {
      // ffmpeg may exit before reading everything (a bad argument); that is its exit code's story.
      child.stdin!.on("error", () => undefined);
      child.stdin!.end(input);
    }
  });
}

let encoderList: Promise<Set<string>> | undefined;

/** Names of the video encoders the binary has (`ffmpeg -encoders`). */
export function videoEncoders(): Promise<Set<string>> {
  encoderList ??= runFfmpeg(["-encoders"]).then((run) => new Set([...run.stdout.toString("utf8").matchAll(/^ V\S*\s+(\S+)/gm)].map((m) => m[1]!)));
  return encoderList;
}

/** The last meaningful line of ffmpeg's stderr, its explanation of a failure (without the file name it starts with). */
export function lastError(stderr: string, file?: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^(frame=|video:|Stream mapping|Press \[q\])/.test(l));
  const last = lines[lines.length - 1] ?? "ffmpeg failed without a message";
  return file && last.startsWith(`${file}: `) ? last.slice(file.length + 2) : last;
}
