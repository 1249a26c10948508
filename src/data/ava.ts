/**
 * AVA's file formats (Gu et al. 2018; read as PySlowFast's `ava_helper.py` reads them):
 *
 * - annotation CSV: `video_id,timestamp,x1,y1,x2,y2,action_id,person_id`, one row per box and
 *   action, coordinates normalised to [0, 1], action ids 1-based as in the label map; rows of one
 *   keyframe and box are one labelled box;
 * - person proposals (detector boxes): the same columns with an empty action and a score in the
 *   last column (`video_id,timestamp,x1,y1,x2,y2,,score`);
 * - excluded timestamps: `video_id,timestamp` rows, keyframes left out of training and evaluation;
 * - the label map `.pbtxt`: `item { name: "..." id: N }` entries (`label_type` lines are ignored).
 *
 * A dataset folder for `--data` holds `label_map.pbtxt`, `train.csv` and `val.csv` (ground truth),
 * `train_proposals.csv` and `val_proposals.csv`, optional `train_excluded_timestamps.csv` and
 * `val_excluded_timestamps.csv`, and the videos as `videos/<video_id>.mp4`; `vnet data synth
 * --variant boxes` writes builtin:motion-boxes so.
 */
import { DataError } from "./issues.js";
import type { LabelledBox, NormalizedBox, ProposalBox } from "./motion-boxes.js";

/** One entry of a label map. */
export interface LabelMapEntry {
  readonly id: number;
  readonly name: string;
}

/** A keyframe's key as AVA writes it. */
export const keyframeKey = (video: string, timestamp: number): string => `${video},${timestamp}`;

function fields(line: string): string[] {
  return line.split(",").map((f) => f.trim());
}

function coordinates(row: string[], file: string, line: number): NormalizedBox {
  const [x1, y1, x2, y2] = row.slice(2, 6).map(Number) as [number, number, number, number];
  for (const v of [x1, y1, x2, y2]) {
    if (!Number.isFinite(v) || v < 0 || v > 1)
      throw new DataError("VN125", file, `line ${line}: box coordinates must be normalised numbers in [0, 1], got ${row.slice(2, 6).join(", ")}`);
  }
  if (x2 < x1 || y2 < y1) throw new DataError("VN125", file, `line ${line}: the box ends before it starts (x1, y1, x2, y2 = ${row.slice(2, 6).join(", ")})`);
  return { x1, y1, x2, y2 };
}

function rowsOf(text: string): { row: string[]; line: number }[] {
  return text
    .split(/\r?\n/)
    .map((l, i) => ({ row: fields(l), line: i + 1, empty: l.trim() === "" }))
    .filter((r) => !r.empty);
}

function timestampOf(value: string, file: string, line: number): number {
  const t = Number(value);
  if (value === "" || !Number.isFinite(t) || t < 0) throw new DataError("VN125", file, `line ${line}: the timestamp must be seconds >= 0, got "${value}"`);
  return t;
}

/** The labelled boxes of an annotation CSV, by keyframe key; actions become 0-based indices into `labelMap`'s order. */
export function parseAvaAnnotations(text: string, file: string, labelMap: readonly LabelMapEntry[]): Map<string, LabelledBox[]> {
  const index = new Map(labelMap.map((e, i) => [e.id, i]));
  const keyframes = new Map<string, Map<string, { box: NormalizedBox; person: number; actions: number[] }>>();
  for (const { row, line } of rowsOf(text)) {
    if (row.length < 7)
      throw new DataError("VN125", file, `line ${line}: expected video_id,timestamp,x1,y1,x2,y2,action_id[,person_id], got ${row.length} fields`);
    const key = keyframeKey(row[0]!, timestampOf(row[1]!, file, line));
    const box = coordinates(row, file, line);
    const action = Number(row[6]);
    // AVA's evaluation keeps the classes of its label map and skips the rest.
    if (!index.has(action)) continue;
    const person = row[7] !== undefined && row[7] !== "" ? Number(row[7]) : -1;
    const boxes = keyframes.get(key) ?? new Map();
    keyframes.set(key, boxes);
    const boxKey = row.slice(2, 6).join(",");
    const entry = boxes.get(boxKey) ?? { box, person, actions: [] };
    boxes.set(boxKey, entry);
    if (!entry.actions.includes(index.get(action)!)) entry.actions.push(index.get(action)!);
  }
  return new Map([...keyframes].map(([key, boxes]) => [key, [...boxes.values()].map((b) => ({ ...b.box, person: b.person, actions: b.actions }))]));
}

/** The person proposals of a CSV with scores, by keyframe key. */
export function parseAvaProposals(text: string, file: string): Map<string, ProposalBox[]> {
  const keyframes = new Map<string, ProposalBox[]>();
  for (const { row, line } of rowsOf(text)) {
    if (row.length < 8) throw new DataError("VN125", file, `line ${line}: expected video_id,timestamp,x1,y1,x2,y2,,score, got ${row.length} fields`);
    const score = Number(row[7]);
    if (!Number.isFinite(score)) throw new DataError("VN125", file, `line ${line}: the score must be a number, got "${row[7]}"`);
    const key = keyframeKey(row[0]!, timestampOf(row[1]!, file, line));
    keyframes.set(key, [...(keyframes.get(key) ?? []), { ...coordinates(row, file, line), score }]);
  }
  return keyframes;
}

/** The excluded keyframes' keys. */
export function parseAvaExclusions(text: string, file: string): Set<string> {
  return new Set(rowsOf(text).map(({ row, line }) => keyframeKey(row[0]!, timestampOf(row[1] ?? "", file, line))));
}

/** A label map `.pbtxt`'s entries in file order. */
export function parseLabelMap(text: string, file: string): LabelMapEntry[] {
  const entries: LabelMapEntry[] = [];
  for (const item of text.matchAll(/item\s*\{([^}]*)\}/g)) {
    const name = /name:\s*"((?:[^"\\]|\\.)*)"/.exec(item[1]!)?.[1];
    const id = /\bid:\s*(\d+)/.exec(item[1]!)?.[1];
    if (name === undefined || id === undefined) throw new DataError("VN125", file, `a label map item lacks its name or id: ${item[0].replace(/\s+/g, " ")}`);
    entries.push({ id: Number(id), name: name.replace(/\\"/g, '"') });
  }
  if (entries.length === 0) throw new DataError("VN125", file, 'no `item { name: "..." id: N }` entries: not an AVA label map');
  return entries;
}

const fixed = (v: number) => v.toFixed(3);

/** An annotation CSV of labelled boxes (action ids from `labelMap`). */
export function formatAvaAnnotations(
  keyframes: readonly { video: string; timestamp: number; boxes: readonly LabelledBox[] }[],
  labelMap: readonly LabelMapEntry[],
): string {
  const lines = keyframes.flatMap((k) =>
    k.boxes.flatMap((b) =>
      b.actions.map((a) => [k.video, k.timestamp, fixed(b.x1), fixed(b.y1), fixed(b.x2), fixed(b.y2), labelMap[a]!.id, b.person].join(",")),
    ),
  );
  return lines.map((l) => `${l}\n`).join("");
}

/** A person-proposal CSV. */
export function formatAvaProposals(keyframes: readonly { video: string; timestamp: number; proposals: readonly ProposalBox[] }[]): string {
  return keyframes
    .flatMap((k) => k.proposals.map((p) => `${[k.video, k.timestamp, fixed(p.x1), fixed(p.y1), fixed(p.x2), fixed(p.y2), "", p.score.toFixed(6)].join(",")}\n`))
    .join("");
}

/** A label map `.pbtxt` of class names, ids 1..n. */
export function formatLabelMap(classNames: readonly string[]): string {
  return classNames.map((name, i) => `item {\n  name: "${name.replace(/"/g, '\\"')}"\n  id: ${i + 1}\n}\n`).join("");
}

/** The files of a detection dataset folder (see the file comment). */
export const AVA_FILES = {
  labelMap: "label_map.pbtxt",
  truth: (split: "train" | "val") => `${split}.csv`,
  proposals: (split: "train" | "val") => `${split}_proposals.csv`,
  excluded: (split: "train" | "val") => `${split}_excluded_timestamps.csv`,
  video: (id: string) => `videos/${id}.mp4`,
} as const;
