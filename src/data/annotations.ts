/**
 * Temporal annotations of untrimmed videos, in the two formats localization datasets ship:
 *
 * - ActivityNet-style JSON (ActivityNet 1.3, MMAction2's `ActivityNetDataset`):
 *   `{"database": {"<video>": {"duration_second": 211.5, "subset": "training",
 *   "annotations": [{"segment": [30.0, 205.2], "label": "Rock climbing"}]}}}`;
 * - THUMOS-style lists (THUMOS'14): a folder of `<Class>_<subset>.txt` files whose lines are
 *   `<video> <start> <end>` in seconds (`Ambiguous_*` lists mark segments no class claims and are
 *   left out). Durations come from elsewhere (the features manifest).
 *
 * Subsets map onto vnet's splits: training/train -> train, validation/val -> val,
 * testing/test -> test; for THUMOS lists, as THUMOS'14 is used, `val` trains and `test` evaluates
 * (-> train and val). Malformed entries are reported (VN121) and skipped; a file that is not in
 * either format is an error (VN120).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../runtime/files.js";
import type { SplitName } from "./dataset.js";
import { DataError, type DataIssue } from "./issues.js";

/** An action in seconds. */
export interface LabelledSegment {
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

export interface AnnotatedVideo {
  readonly id: string;
  /** Seconds, when the annotations say (ActivityNet does, THUMOS lists do not). */
  readonly duration?: number;
  readonly split: SplitName;
  readonly segments: readonly LabelledSegment[];
}

export interface Annotations {
  readonly file: string;
  readonly format: "activitynet" | "thumos";
  readonly videos: ReadonlyMap<string, AnnotatedVideo>;
  /** Class names in order of first appearance. */
  readonly classNames: readonly string[];
  readonly issues: readonly DataIssue[];
}

const ACTIVITYNET_SPLITS: Readonly<Record<string, SplitName>> = {
  training: "train",
  train: "train",
  validation: "val",
  val: "val",
  testing: "test",
  test: "test",
};
const THUMOS_SPLITS: Readonly<Record<string, SplitName>> = { val: "train", validation: "train", test: "val" };

/** Line and column of a character offset, for JSON syntax errors. */
function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

function classNamesOf(videos: Iterable<AnnotatedVideo>): string[] {
  const names: string[] = [];
  for (const v of videos) for (const s of v.segments) if (!names.includes(s.label)) names.push(s.label);
  return names;
}

/** Reads an ActivityNet-style annotation file. */
export function readActivityNet(file: string): Annotations {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new DataError("VN120", file, `cannot read the annotation file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message);
    throw new DataError("VN120", file, `not JSON: ${(error as Error).message}`, position ? lineOf(text, Number(position[1])) : undefined);
  }
  const database = (data as { database?: unknown } | null)?.database;
  if (!database || typeof database !== "object" || Array.isArray(database)) {
    throw new DataError(
      "VN120",
      file,
      'an ActivityNet-style annotation file is an object with a "database" of videos: {"database": {"<video>": {"duration_second": ..., "subset": ..., "annotations": [...]}}}',
    );
  }
  const issues: DataIssue[] = [];
  const videos = new Map<string, AnnotatedVideo>();
  const skip = (message: string) => issues.push({ code: "VN121", path: file, message });
  for (const [id, raw] of Object.entries(database as Record<string, unknown>)) {
    const entry = raw as { duration_second?: unknown; subset?: unknown; annotations?: unknown } | null;
    if (!entry || typeof entry !== "object") {
      skip(`database["${id}"] is not an object`);
      continue;
    }
    const duration = entry.duration_second;
    if (typeof duration !== "number" || !(duration > 0)) {
      skip(`database["${id}"].duration_second must be a positive number of seconds, got ${JSON.stringify(duration)}`);
      continue;
    }
    const split = typeof entry.subset === "string" ? ACTIVITYNET_SPLITS[entry.subset] : undefined;
    if (!split) {
      skip(`database["${id}"].subset must be "training", "validation" or "testing", got ${JSON.stringify(entry.subset)}`);
      continue;
    }
    const annotations = entry.annotations ?? [];
    if (!Array.isArray(annotations)) {
      skip(`database["${id}"].annotations must be a list`);
      continue;
    }
    const segments: LabelledSegment[] = [];
    annotations.forEach((a: unknown, k: number) => {
      const where = `database["${id}"].annotations[${k}]`;
      const { segment, label } = (a ?? {}) as { segment?: unknown; label?: unknown };
      if (!Array.isArray(segment) || segment.length !== 2 || segment.some((x) => typeof x !== "number" || !Number.isFinite(x)))
        return skip(`${where}.segment must be [start, end] in seconds, got ${JSON.stringify(segment)}`);
      if (typeof label !== "string" || label === "") return skip(`${where}.label must be a class name, got ${JSON.stringify(label)}`);
      const [start, end] = segment as [number, number];
      if (!(end > start)) return skip(`${where}: the segment [${start}, ${end}] ends before it starts`);
      if (start >= duration || end <= 0) return skip(`${where}: the segment [${start}, ${end}] lies outside the video's ${duration} s`);
      segments.push({ start: Math.max(0, start), end: Math.min(duration, end), label });
    });
    videos.set(id, { id, duration, split, segments });
  }
  return { file, format: "activitynet", videos, classNames: classNamesOf(videos.values()), issues };
}

/** Reads a folder of THUMOS-style `<Class>_<subset>.txt` lists. */
export function readThumos(dir: string): Annotations {
  let entries: string[];
  try {
    entries = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".txt"))
      .sort();
  } catch (error) {
    throw new DataError("VN120", dir, `cannot read the annotation folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const lists = entries.map((f) => ({ f, match: /^(.+)_(val|validation|test)\.txt$/.exec(f) })).filter((e) => e.match && e.match[1] !== "Ambiguous");
  if (lists.length === 0)
    throw new DataError("VN120", dir, "no THUMOS-style lists here: expected files named <Class>_val.txt or <Class>_test.txt with `video start end` lines");
  const issues: DataIssue[] = [];
  const segmentsOf = new Map<string, { split: SplitName; segments: LabelledSegment[] }>();
  for (const { f, match } of lists) {
    const label = match![1]!;
    const split = THUMOS_SPLITS[match![2]!]!;
    const file = path.join(dir, f);
    fs.readFileSync(file, "utf8")
      .split(/\r?\n/)
      .forEach((line, i) => {
        if (!line.trim()) return;
        const [video, a, b, ...rest] = line.trim().split(/\s+/);
        const start = Number(a);
        const end = Number(b);
        if (!video || rest.length > 0 || !Number.isFinite(start) || !Number.isFinite(end))
          return void issues.push({ code: "VN121", path: file, line: i + 1, message: `expected \`video start end\` (seconds), got \`${line.trim()}\`` });
        if (!(end > start) || start < 0)
          return void issues.push({ code: "VN121", path: file, line: i + 1, message: `the segment [${start}, ${end}] ends before it starts` });
        const entry = segmentsOf.get(video) ?? { split, segments: [] };
        entry.segments.push({ start, end, label });
        segmentsOf.set(video, entry);
      });
  }
  const videos = new Map([...segmentsOf].map(([id, v]) => [id, { id, split: v.split, segments: v.segments.sort((x, y) => x.start - y.start) }]));
  return { file: dir, format: "thumos", videos, classNames: classNamesOf(videos.values()), issues };
}

/** Reads annotations: a .json file (ActivityNet style) or a folder of THUMOS-style lists. */
export function readAnnotations(file: string): Annotations {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new DataError("VN120", file, "no such annotation file or folder");
  }
  return stat.isDirectory() ? readThumos(file) : readActivityNet(file);
}

/** ActivityNet's subset names of vnet's splits. */
const SUBSET_OF: Readonly<Record<SplitName, string>> = { train: "training", val: "validation", test: "testing" };

/** Writes ActivityNet-style annotations (atomically); videos need durations. */
export function writeActivityNet(
  file: string,
  videos: Iterable<AnnotatedVideo & { readonly duration: number }>,
  extra: Record<string, Record<string, unknown>> = {},
): void {
  const database: Record<string, unknown> = {};
  for (const v of videos) {
    database[v.id] = {
      duration_second: v.duration,
      subset: SUBSET_OF[v.split],
      annotations: v.segments.map((s) => ({ segment: [s.start, s.end], label: s.label })),
      ...(extra[v.id] ?? {}),
    };
  }
  writeFileAtomic(file, `${JSON.stringify({ version: "VERSION 1.3", taxonomy: [], database }, null, 1)}\n`);
}
