/**
 * Video metadata (frame count, frame rate, duration, decoded size) and a content hash, probed
 * once per file and cached. The shipped ffmpeg has no ffprobe, so probing decodes the video
 * stream once to a null output: the `ffmpeg -i` header gives size, rate and duration, the final
 * frame counter the exact number of decodable frames, the vfrdet filter whether the frame rate
 * varies, and decoder errors on the way reveal damaged data. Results (failures too) are cached in memory and under
 * `<cache>/probe/`, keyed by absolute path, size and modification time.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { DataError, type DataIssue } from "../issues.js";
import type { VideoMeta } from "../sampling.js";
import { errnoReason, writeFileAtomic } from "../../runtime/files.js";
import { lastError, runFfmpeg } from "./ffmpeg.js";

export interface ProbedVideo extends VideoMeta {
  readonly duration: number;
  readonly codec: string;
  /** sha256 of the file's bytes: the key of its cached optical flow. */
  readonly hash: string;
}

/** The probe's version: an entry of another (an older probe, which did not detect variable frame rates) is probed again. */
const PROBE_VERSION = 2;

interface CacheEntry {
  readonly version?: number;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly video?: ProbedVideo;
  readonly issue?: DataIssue;
}

const memory = new Map<string, CacheEntry>();

/** Parses the input section of `ffmpeg -i` output and its final frame counter. */
export function parseProbe(
  stderr: string,
): { width: number; height: number; fps: number; duration: number; codec: string; frames: number; variableRate?: boolean; errors: string[] } | undefined {
  const input = stderr.split(/^Stream mapping:|^Output #0/m)[0]!;
  const stream = /Stream #\d+:\d+[^:]*: Video: (\w+)[^\n]*?, (\d+)x(\d+)[^\n]*/.exec(input);
  if (!stream) return undefined;
  const line = stream[0];
  const rate = /, ([\d.]+)(k?) fps/.exec(line) ?? /, ([\d.]+)(k?) tbr/.exec(line);
  const clock = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(input);
  const counted = [...stderr.matchAll(/frame=\s*(\d+)/g)].pop();
  const frames = counted ? Number(counted[1]) : 0;
  const duration = clock ? Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]) : 0;
  let fps = rate ? Number(rate[1]) * (rate[2] ? 1000 : 1) : 0;
  if (!(fps > 0)) fps = duration > 0 ? frames / duration : 25;
  // ffmpeg applies a rotation tag when decoding, so a quarter turn swaps the decoded size.
  const rotation = /rotate\s*:\s*(-?\d+)/.exec(input) ?? /rotation of (-?[\d.]+) degrees/.exec(input);
  const quarter = rotation ? Math.abs(Math.round(Number(rotation[1]))) % 180 === 90 : false;
  const width = Number(stream[quarter ? 3 : 2]);
  const height = Number(stream[quarter ? 2 : 3]);
  const errors = stderr
    .split(/\r?\n/)
    .filter((l) => /Error while decoding|corrupt|Invalid NAL|partial file|concealing|error while decoding/i.test(l))
    .map((l) => l.trim());
  // The vfrdet filter's report: how many frame intervals differ from the one before, and the shortest and longest.
  // Rounding jitter (33/34 ms at 29.97 fps in a millisecond time base) stays within half a frame of n / fps; a longer interval does not.
  const vfr = /VFR:[\d.]+ \((\d+)\/\d+\) min: (\d+) max: (\d+)/.exec(stderr);
  const variableRate = vfr !== null && Number(vfr[1]) > 0 && Number(vfr[3]) > 1.5 * Number(vfr[2]);
  return { width, height, fps, duration: duration || frames / fps, codec: stream[1]!, frames, ...(variableRate ? { variableRate } : {}), errors };
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    fs.createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

function cacheFile(cacheDir: string, absolute: string): string {
  return path.join(cacheDir, "probe", `${createHash("sha1").update(absolute).digest("hex")}.json`);
}

function readCache(cacheDir: string | undefined, absolute: string, stat: fs.Stats): CacheEntry | undefined {
  const hit = (e: CacheEntry | undefined) =>
    e && e.version === PROBE_VERSION && e.path === absolute && e.size === stat.size && e.mtimeMs === stat.mtimeMs ? e : undefined;
  const known = hit(memory.get(absolute));
  if (known || !cacheDir) return known;
  try {
    const entry = hit(JSON.parse(fs.readFileSync(cacheFile(cacheDir, absolute), "utf8")) as CacheEntry);
    if (entry) memory.set(absolute, entry);
    return entry;
  } catch {
    return undefined;
  }
}

async function probeUncached(file: string, size: number): Promise<ProbedVideo> {
  if (size === 0) throw new DataError("VN091", file, "the file is empty (0 bytes)");
  const run = await runFfmpeg(["-threads", "1", "-i", file, "-map", "0:v:0", "-vf", "vfrdet", "-vsync", "0", "-f", "null", "-"]);
  if (run.code !== 0) {
    if (/matches no streams/.test(run.stderr)) throw new DataError("VN094", file, "the file has no video stream");
    throw new DataError("VN092", file, `ffmpeg cannot read it: ${lastError(run.stderr, file)}`);
  }
  const parsed = parseProbe(run.stderr);
  if (!parsed) throw new DataError("VN094", file, "ffmpeg finds no video stream in it");
  if (parsed.errors.length) throw new DataError("VN093", file, `frames fail to decode (${parsed.frames} decoded): ${parsed.errors[0]}`);
  if (parsed.frames === 0) throw new DataError("VN093", file, "no frame decodes");
  const { errors: _errors, ...meta } = parsed;
  return { ...meta, hash: await hashFile(file) };
}

/**
 * The metadata of a video, probed once and cached (see the file comment); throws a DataError
 * (VN090 unreadable, VN091 empty, VN092 corrupt, VN093 damaged, VN094 no video stream).
 */
export async function probeVideo(file: string, cacheDir?: string): Promise<ProbedVideo> {
  const absolute = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
    fs.accessSync(absolute, fs.constants.R_OK);
  } catch (error) {
    throw new DataError("VN090", file, `cannot read it: ${errnoReason(error)}`);
  }
  const cached = readCache(cacheDir, absolute, stat);
  if (cached?.video) return cached.video;
  if (cached?.issue) throw new DataError(cached.issue.code, file, cached.issue.message);
  let entry: CacheEntry;
  try {
    entry = { version: PROBE_VERSION, path: absolute, size: stat.size, mtimeMs: stat.mtimeMs, video: await probeUncached(file, stat.size) };
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    entry = { version: PROBE_VERSION, path: absolute, size: stat.size, mtimeMs: stat.mtimeMs, issue: error.issue };
  }
  memory.set(absolute, entry);
  if (cacheDir) writeFileAtomic(cacheFile(cacheDir, absolute), JSON.stringify(entry), { durable: false, createDirectory: true });
  if (entry.issue) throw new DataError(entry.issue.code, file, entry.issue.message);
  return entry.video!;
}
