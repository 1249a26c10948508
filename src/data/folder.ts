/**
 * Video datasets on disk, in the two common layouts:
 *  - class folders (UCF101 style): `<root>/<class>/<video>`, one sub-folder per class;
 *  - annotation lists (MMAction2 style): lines `relative/path.mp4 label`, the path relative to the
 *    list's folder, the label a class index or a class name (the last field: a path may hold
 *    spaces when the file it names exists).
 * Splits: `--data` names a list file or a folder. A folder holding `train.txt` / `val.txt` /
 * `test.txt` uses those lists; one holding `train/`, `val/`, `test/` class folders uses those;
 * otherwise (a plain class folder or a single list) each class's videos are split, in sorted
 * path order and evenly spread, into `valFraction` validation and the rest training.
 * Class names: given by the caller (the spec's `class_names`, a checkpoint's), else the training
 * split's class folders, else a `classes.txt` beside the lists (one name per line, or
 * `index name` lines like UCF101's classInd.txt), else the training labels (sorted names, or
 * 0..max for integer labels).
 * Every video is probed (cached); a bad video, unreadable folder, malformed list line or
 * unknown label becomes an issue with its path (VN090-VN096) and is skipped. Nothing under the
 * dataset folder is written.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DataError, type DataIssue } from "./issues.js";
import type { SplitName, VideoItem, VideoSplits } from "./dataset.js";
import { probeVideo } from "./video/probe.js";

/** File extensions read as videos. */
export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set([
  ".mp4",
  ".m4v",
  ".mov",
  ".avi",
  ".mkv",
  ".webm",
  ".mpg",
  ".mpeg",
  ".wmv",
  ".flv",
  ".3gp",
  ".ogv",
]);

const SPLITS: readonly SplitName[] = ["train", "val", "test"];

export interface FolderOptions {
  /** Fixed class names (labels are looked up in them); else derived as the file comment says. */
  readonly classNames?: readonly string[];
  /** Share of each class held out for validation when the dataset has no explicit splits (default 0.2). */
  readonly valFraction?: number;
  /** Probe cache directory. */
  readonly cacheDir?: string;
  /** Videos probed at once (default: the number of CPUs, at most 8). */
  readonly concurrency?: number;
}

/** A labelled path before probing; `label` is a class name (folders) or the list's token. */
interface Entry {
  readonly path: string;
  readonly label: string;
  readonly listFile?: string;
  readonly line?: number;
}

function readable(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/** The videos of a class folder tree `<root>/<class>/<video>`; non-videos and unreadable folders are issues. */
function scanClassFolders(root: string, issues: DataIssue[]): { entries: Entry[]; classes: string[] } {
  const entries: Entry[] = [];
  const classes: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(root).sort();
  } catch (error) {
    throw new DataError("VN090", root, `cannot read the folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const dir = path.join(root, name);
    const stat = readable(dir);
    if (stat?.isFile()) continue;
    let files: string[];
    try {
      files = fs.readdirSync(dir).sort();
    } catch (error) {
      issues.push({ code: "VN090", path: dir, message: `cannot read the class folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
      continue;
    }
    classes.push(name);
    for (const file of files) {
      if (file.startsWith(".")) continue;
      const full = path.join(dir, file);
      if (!VIDEO_EXTENSIONS.has(path.extname(file).toLowerCase())) {
        if (readable(full)?.isFile() !== false)
          issues.push({ code: "VN094", path: full, message: `not a video file (extensions read: ${[...VIDEO_EXTENSIONS].join(" ")})` });
        continue;
      }
      entries.push({ path: full, label: name });
    }
  }
  return { entries, classes };
}

/** The entries of an annotation list; malformed lines are issues. */
function readList(file: string, issues: DataIssue[]): Entry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new DataError("VN090", file, `cannot read the list: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  // A list is text: NUL bytes mean another kind of file (a video with another extension, an archive).
  if (text.includes("\u0000")) throw new DataError("VN090", file, "this is not a list file (it holds binary data); a list has lines `relative/path.mp4 label`");
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    let tokens = line.split(/\s+/);
    // A file name with spaces: the label is the last field, the path everything before it, when that file is there.
    const spaced = tokens.length > 2 ? /^(.*\S)\s+(\S+)$/.exec(line) : null;
    if (spaced && readable(path.isAbsolute(spaced[1]!) ? spaced[1]! : path.join(path.dirname(file), spaced[1]!))?.isFile()) tokens = [spaced[1]!, spaced[2]!];
    if (tokens.length !== 2) {
      issues.push({
        code: "VN096",
        path: file,
        line: i + 1,
        message: `expected \`relative/path.mp4 label\`, got ${tokens.length} field${tokens.length === 1 ? "" : "s"}: ${JSON.stringify(line.slice(0, 80))}${tokens.length > 2 ? " (a path with spaces is read when the file it names exists; this one does not)" : ""}`,
      });
      return;
    }
    const video = tokens[0]!;
    entries.push({ path: path.isAbsolute(video) ? video : path.join(path.dirname(file), video), label: tokens[1]!, listFile: file, line: i + 1 });
  });
  return entries;
}

/** `classes.txt` beside a list: one name per line, or `index name` lines (1-based, UCF101's classInd.txt). */
function readClassFile(dir: string): string[] | undefined {
  const file = path.join(dir, "classes.txt");
  if (!readable(file)) return undefined;
  const lines = fs
    .readFileSync(file, "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const indexed = lines.every((l) => /^\d+\s+\S+$/.test(l));
  if (!indexed) return lines;
  const pairs = lines.map((l) => l.split(/\s+/) as [string, string]).map(([i, n]) => [Number(i), n] as const);
  const base = Math.min(...pairs.map(([i]) => i));
  const names: string[] = [];
  for (const [i, n] of pairs) names[i - base] = n;
  return names;
}

/** Class names from training labels: sorted names, or 0..max when all are integers. */
function namesFromLabels(labels: readonly string[]): string[] {
  if (labels.every((l) => /^\d+$/.test(l))) return Array.from({ length: Math.max(-1, ...labels.map(Number)) + 1 }, (_, i) => String(i));
  return [...new Set(labels)].sort();
}

/** Held-out validation entries of each class: round(n * fraction) of them (at least one of two or more), evenly spread. */
function holdOut(entries: readonly Entry[], fraction: number): { train: Entry[]; val: Entry[] } {
  const byLabel = new Map<string, Entry[]>();
  for (const e of entries) byLabel.set(e.label, [...(byLabel.get(e.label) ?? []), e]);
  const train: Entry[] = [];
  const val: Entry[] = [];
  for (const group of byLabel.values()) {
    const sorted = [...group].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const n = sorted.length;
    const count = fraction <= 0 || n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
    const chosen = new Set(Array.from({ length: count }, (_, j) => Math.floor(((j + 0.5) * n) / count)));
    sorted.forEach((e, i) => (chosen.has(i) ? val : train).push(e));
  }
  return { train, val };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return results;
}

/** Opens a dataset folder or list file (see the file comment). Throws a DataError when the location itself is unreadable. */
export async function openDataset(location: string, options: FolderOptions = {}): Promise<VideoSplits> {
  const stat = readable(location);
  if (!stat) throw new DataError("VN090", location, "no such file or folder");
  const issues: DataIssue[] = [];
  const splits: Record<SplitName, Entry[]> = { train: [], val: [], test: [] };
  let derived: string[] | undefined;
  let listDir: string | undefined;
  const lists = stat.isDirectory() ? SPLITS.filter((s) => readable(path.join(location, `${s}.txt`))?.isFile()) : [];
  const folders = stat.isDirectory() ? SPLITS.filter((s) => readable(path.join(location, s))?.isDirectory()) : [];
  if (!stat.isDirectory()) {
    if (VIDEO_EXTENSIONS.has(path.extname(location).toLowerCase()))
      throw new DataError(
        "VN090",
        location,
        "this is a video, not a dataset: give a folder of class folders, a folder with train.txt / val.txt, or a list file (vnet predict classifies one video)",
      );
    listDir = path.dirname(location);
    Object.assign(splits, holdOut(readList(location, issues), options.valFraction ?? 0.2));
  } else if (lists.length) {
    listDir = location;
    for (const s of lists) splits[s] = readList(path.join(location, `${s}.txt`), issues);
  } else if (folders.length) {
    // Split folders without train/ (a val/ folder to evaluate on) are splits all the same, not classes named "val".
    for (const s of folders) {
      const scanned = scanClassFolders(path.join(location, s), issues);
      splits[s] = scanned.entries;
      if (s === "train" || derived === undefined) derived = scanned.classes;
    }
  } else {
    const scanned = scanClassFolders(location, issues);
    derived = scanned.classes;
    Object.assign(splits, holdOut(scanned.entries, options.valFraction ?? 0.2));
  }
  const classNames: readonly string[] =
    options.classNames ?? derived ?? (listDir !== undefined ? readClassFile(listDir) : undefined) ?? namesFromLabels(splits.train.map((e) => e.label));
  const index = new Map(classNames.map((n, i) => [n, i]));
  const labelOf = (e: Entry): number | undefined => {
    if (index.has(e.label)) return index.get(e.label);
    if (e.listFile && /^\d+$/.test(e.label) && Number(e.label) < classNames.length) return Number(e.label);
    return undefined;
  };
  const concurrency = options.concurrency ?? Math.min(8, os.availableParallelism());
  const open = async (entries: readonly Entry[]): Promise<VideoItem[]> => {
    const opened = await mapLimit(entries, concurrency, async (e): Promise<VideoItem | undefined> => {
      const label = labelOf(e);
      if (label === undefined) {
        const where = e.listFile ? { path: e.listFile, line: e.line! } : { path: e.path };
        issues.push({
          code: "VN095",
          ...where,
          message: `label ${JSON.stringify(e.label)}${e.listFile ? ` of ${e.path}` : ""} is not one of the ${classNames.length} classes (${classNames.slice(0, 8).join(", ")}${classNames.length > 8 ? ", ..." : ""})`,
        });
        return undefined;
      }
      if (e.listFile && !VIDEO_EXTENSIONS.has(path.extname(e.path).toLowerCase())) {
        issues.push({ code: "VN094", path: e.path, message: "not a video file" });
        return undefined;
      }
      try {
        const video = await probeVideo(e.path, options.cacheDir);
        return { name: e.path, label, source: { kind: "file", path: e.path, meta: video, hash: video.hash } };
      } catch (error) {
        if (!(error instanceof DataError)) throw error;
        issues.push(error.issue);
        return undefined;
      }
    });
    return opened.filter((item): item is VideoItem => item !== undefined);
  };
  const train = await open(splits.train);
  const val = await open(splits.val);
  const test = await open(splits.test);
  // Probes finish in any order; report in path order.
  issues.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : (a.line ?? 0) - (b.line ?? 0)));
  return { name: location, classNames, train, val, test, issues };
}
