/**
 * A seeded mutation fuzzer for the parser and checker, shared by `test/fuzz.test.ts` (CI-sized)
 * and `scripts/fuzz.ts` (long runs). Cases are mutated copies of the spec library: real specs
 * reach deep into the checker, and mutations of them reach the error paths around it.
 *
 * Everything is deterministic: case `index` of run `seed` is always the same text, so a failure
 * reported as `seed 1, case 1234` is reproduced by `node dist/scripts/fuzz.js --seed 1 --only 1234`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { KEYWORDS } from "../grammar/tokens.js";
import { CODES } from "../src/diagnostics/codes.js";
import type { Diagnostic, Range } from "../src/diagnostics/diagnostic.js";
import { seededRandom } from "../src/data/motion.js";
import { FUNCTIONS, OPERATORS } from "../src/ops/catalogue.js";
import { checkProgram, type CheckResult } from "../src/semantics/check.js";
import { loadProgram, type Host } from "../src/semantics/program.js";
import { NETWORK_PROPERTIES, SECTION_SCHEMAS } from "../src/semantics/sections.js";

/** A small, fast, seedable PRNG (mulberry32): returns floats in [0, 1); shared with the datasets. */
export const mulberry32 = seededRandom;

/** Mixes a run seed and a case index into one case seed, so any case can be regenerated alone. */
export function caseSeed(runSeed: number, index: number): number {
  let h = Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

type Random = () => number;

function randomInt(rng: Random, below: number): number {
  return Math.floor(rng() * below);
}

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[randomInt(rng, items.length)]!;
}

/** The repository root: the nearest folder above this file (or its compiled copy) with package.json. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("no package.json above the fuzzer");
    dir = parent;
  }
  return dir;
}

export interface CorpusFile {
  /** Absolute path: mutated texts are checked under their original path so imports resolve. */
  readonly file: string;
  /** Path relative to the project root, for reports. */
  readonly name: string;
  /** The project root (the specs folder's parent): imports may not leave it. */
  readonly root: string;
  readonly text: string;
}

/** Every `.vnet` file under `specsDir`, sorted by path so the corpus order (and so each case) is stable. */
export function loadCorpus(specsDir = path.join(repoRoot(), "specs")): CorpusFile[] {
  const root = path.dirname(specsDir);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith(".vnet")) files.push(full);
    }
  };
  walk(specsDir);
  return files.sort().map((file) => ({ file, name: path.relative(root, file), root, text: fs.readFileSync(file, "utf8") }));
}

/** Replacement numbers: boundaries, huge, fractional, and forms the lexer must reject or clamp. */
const NUMBERS = [
  "0",
  "1",
  "2",
  "3.5",
  "1e9",
  "1e308",
  "1e400",
  "99999999999999999999",
  "0.0000001",
  "-1",
  "65536",
  "4294967297",
  "-0",
  "2**62",
  "1e-400",
  "0.0",
  "1e12",
];

/** Words and symbols of the language, drawn from the grammar and catalogues so new operators join automatically. */
export const VOCABULARY: readonly string[] = (() => {
  const keywords = KEYWORDS.map((k) => k.name.toLowerCase());
  const sections = Object.entries(SECTION_SCHEMAS).flatMap(([name, schema]) => [name, ...Object.keys(schema)]);
  const punctuation = ["->", "..", ".", "==", "!=", "<=", ">=", "<", ">", "=", "**", "*", "/", "%", "+", "-", "{", "}", "(", ")", "[", "]", ","];
  const members = ["channels", "frames", "height", "width", "shape"];
  const strings = [
    '""',
    '"a"',
    '"same"',
    '"valid"',
    '"concat"',
    '"time"',
    '"softmax"',
    '"random"',
    '"**"',
    '"layer{1,2}.*.conv_a"',
    '"./lib/video_resnet.vnet"',
    '"../../outside.vnet"',
    '"\\""',
    '"\\\\"',
  ];
  return [
    ...keywords,
    ...OPERATORS.keys(),
    ...FUNCTIONS.keys(),
    ...sections,
    ...NETWORK_PROPERTIES,
    ...members,
    ...punctuation,
    ...NUMBERS,
    ...strings,
    "x",
    "video",
    "sampling",
    "classes",
  ];
})();

/** Characters no token contains, line breaks and non-ASCII: they test lexer recovery and offset arithmetic. */
const JUNK = [
  "\u0000",
  "\r",
  "\r\n",
  "\t",
  "\uFEFF",
  "\u00e9",
  "\u{1F600}",
  "\uD800",
  "\uFFFD",
  ":",
  ";",
  "#",
  "'",
  "!",
  "?",
  "@",
  "$",
  "`",
  "\\",
  '"',
  "/*",
  "*/",
  "//",
];

/** Splits text into token-ish pieces, whitespace included, so joining the pieces gives the text back. */
const PIECE = /\s+|\/\/[^\r\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\r\n]|\\.)*"?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|->|\.\.|==|!=|<=|>=|\*\*|[\s\S]/g;

interface Pieces {
  readonly pieces: string[];
  /** Indices into `pieces` of the non-whitespace pieces. */
  readonly tokens: number[];
}

function split(text: string): Pieces {
  const pieces = text.match(PIECE) ?? [];
  const tokens: number[] = [];
  pieces.forEach((piece, i) => {
    if (!/^\s+$/.test(piece)) tokens.push(i);
  });
  return { pieces, tokens };
}

/** A span of 1 to 8 consecutive tokens, as piece indices [first, last]. */
function tokenSpan(rng: Random, p: Pieces): [number, number] | undefined {
  if (p.tokens.length === 0) return undefined;
  const first = randomInt(rng, p.tokens.length);
  const last = Math.min(p.tokens.length - 1, first + randomInt(rng, 8));
  return [p.tokens[first]!, p.tokens[last]!];
}

/** A piece index to insert before (anywhere from the start to the end). */
function insertionPoint(rng: Random, p: Pieces): number {
  return randomInt(rng, p.pieces.length + 1);
}

export interface Mutation {
  readonly name: string;
  /** Returns the mutated text and a short note of what changed, for failure reports. */
  apply(text: string, rng: Random, options: GenerateOptions): { text: string; note: string };
}

export interface GenerateOptions {
  /**
   * Most extra copies `repeat-span` makes (default 300). Thousands of copies probe recursion depth
   * and super-linear time, but also make each case slow, so CI runs keep the default.
   */
  readonly maxRepeat?: number;
}

/** The default of `GenerateOptions.maxRepeat`. */
export const DEFAULT_MAX_REPEAT = 300;

/** The mutation operators; each case applies one to four of them in sequence. */
export const MUTATIONS: readonly Mutation[] = [
  {
    name: "delete-span",
    apply(text, rng) {
      const p = split(text);
      const span = tokenSpan(rng, p);
      if (!span) return { text, note: "nothing to delete" };
      const removed = p.pieces.splice(span[0], span[1] - span[0] + 1);
      return { text: p.pieces.join(""), note: `removed ${JSON.stringify(removed.join("").slice(0, 60))}` };
    },
  },
  {
    name: "duplicate-span",
    apply(text, rng) {
      const p = split(text);
      const span = tokenSpan(rng, p);
      if (!span) return { text, note: "nothing to duplicate" };
      const copy = p.pieces.slice(span[0], span[1] + 1).join("");
      // Half the time right after the original (stutter), otherwise anywhere.
      const at = rng() < 0.5 ? span[1] + 1 : insertionPoint(rng, p);
      p.pieces.splice(at, 0, ` ${copy} `);
      return { text: p.pieces.join(""), note: `copied ${JSON.stringify(copy.slice(0, 60))}` };
    },
  },
  {
    name: "repeat-span",
    apply(text, rng, options) {
      const p = split(text);
      const span = tokenSpan(rng, p);
      if (!span) return { text, note: "nothing to repeat" };
      // Long repetitions build deep or wide trees (`[0][0]...`, `-> relu -> relu ...`): recursion and quadratic-time probes.
      const maxRepeat = options.maxRepeat ?? DEFAULT_MAX_REPEAT;
      const times = pick(rng, [3, 30, 300, 3000, 30000].filter((n) => n <= maxRepeat).concat(maxRepeat < 3 ? [maxRepeat] : []));
      const copy = p.pieces.slice(span[0], span[1] + 1).join("");
      p.pieces.splice(span[1] + 1, 0, ` ${copy}`.repeat(times));
      return { text: p.pieces.join(""), note: `repeated ${JSON.stringify(copy.slice(0, 60))} ${times} more times` };
    },
  },
  {
    name: "swap-spans",
    apply(text, rng) {
      const p = split(text);
      const a = tokenSpan(rng, p);
      const b = tokenSpan(rng, p);
      if (!a || !b || !(a[1] < b[0] || b[1] < a[0])) return { text, note: "spans overlap, unchanged" };
      const [first, second] = a[0] < b[0] ? [a, b] : [b, a];
      const before = p.pieces.slice(0, first[0]).join("");
      const firstText = p.pieces.slice(first[0], first[1] + 1).join("");
      const between = p.pieces.slice(first[1] + 1, second[0]).join("");
      const secondText = p.pieces.slice(second[0], second[1] + 1).join("");
      const after = p.pieces.slice(second[1] + 1).join("");
      return {
        text: before + secondText + between + firstText + after,
        note: `swapped ${JSON.stringify(firstText.slice(0, 30))} and ${JSON.stringify(secondText.slice(0, 30))}`,
      };
    },
  },
  {
    name: "insert-token",
    apply(text, rng) {
      const p = split(text);
      const word = pick(rng, VOCABULARY);
      p.pieces.splice(insertionPoint(rng, p), 0, ` ${word} `);
      return { text: p.pieces.join(""), note: `inserted ${JSON.stringify(word)}` };
    },
  },
  {
    name: "insert-junk",
    apply(text, rng) {
      const junk = pick(rng, JUNK);
      const at = randomInt(rng, text.length + 1);
      return { text: text.slice(0, at) + junk + text.slice(at), note: `inserted ${JSON.stringify(junk)} at offset ${at}` };
    },
  },
  {
    name: "change-number",
    apply(text, rng) {
      const p = split(text);
      const numbers = p.tokens.filter((i) => /^\d/.test(p.pieces[i]!));
      if (numbers.length === 0) return { text, note: "no numbers" };
      const index = pick(rng, numbers);
      const old = p.pieces[index]!;
      p.pieces[index] = pick(rng, NUMBERS);
      return { text: p.pieces.join(""), note: `${old} -> ${p.pieces[index]}` };
    },
  },
  {
    name: "rename",
    apply(text, rng) {
      const p = split(text);
      const names = p.tokens.filter((i) => /^[A-Za-z_]/.test(p.pieces[i]!));
      if (names.length === 0) return { text, note: "no names" };
      const index = pick(rng, names);
      const old = p.pieces[index]!;
      // Another name from the same text makes self-references, cycles and shadowing likely.
      p.pieces[index] = rng() < 0.7 ? p.pieces[pick(rng, names)]! : pick(rng, VOCABULARY);
      return { text: p.pieces.join(""), note: `${old} -> ${p.pieces[index]}` };
    },
  },
  {
    name: "truncate",
    apply(text, rng) {
      const at = randomInt(rng, text.length + 1);
      return { text: text.slice(0, at), note: `cut at offset ${at} of ${text.length}` };
    },
  },
  {
    name: "shuffle-lines",
    apply(text, rng) {
      const lines = text.split("\n");
      if (lines.length < 2) return { text, note: "one line" };
      // Mostly a local window (moves a statement across its neighbours); sometimes the whole file.
      const whole = rng() < 0.1;
      const start = whole ? 0 : randomInt(rng, lines.length - 1);
      const end = whole ? lines.length : Math.min(lines.length, start + 2 + randomInt(rng, 7));
      for (let i = end - 1; i > start; i--) {
        const j = start + randomInt(rng, i - start + 1);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      }
      return { text: lines.join("\n"), note: `shuffled lines ${start + 1}..${end}` };
    },
  },
  {
    name: "nest",
    apply(text, rng) {
      // Deep nesting: parentheses around a value, lists, or a loop/section around a statement.
      const p = split(text);
      const span = tokenSpan(rng, p);
      if (!span) return { text, note: "nothing to nest" };
      const depth = pick(rng, [10, 100, 1000]);
      const [open, close] = pick(rng, [
        ["(", ")"],
        ["[", "]"],
        ["{ ", " }"],
        ["for i in 0..2 { ", " }"],
        ["-(", ")"],
      ] as const);
      const inner = p.pieces.slice(span[0], span[1] + 1).join("");
      p.pieces.splice(span[0], span[1] - span[0] + 1, open.repeat(depth) + inner + close.repeat(depth));
      return { text: p.pieces.join(""), note: `nested ${JSON.stringify(inner.slice(0, 30))} in ${depth} ${JSON.stringify(open)}` };
    },
  },
  {
    name: "whitespace",
    apply(text, rng) {
      // What editors and other systems put in files: a byte-order mark, tabs, NULs, unicode names.
      const kind = pick(rng, ["bom", "tabs", "nul", "unicode-name", "huge-range"] as const);
      if (kind === "bom") return { text: `\uFEFF${text}`, note: "byte-order mark" };
      if (kind === "tabs") return { text: text.replace(/^( {2})+/gm, (m) => "\t".repeat(m.length / 2)), note: "tab indentation" };
      if (kind === "nul") return { text: text.replace(/ /g, (m) => (rng() < 0.02 ? "\u0000" : m)), note: "NUL bytes for some spaces" };
      const p = split(text);
      if (kind === "huge-range") {
        const ranges = p.tokens.filter((i) => p.pieces[i] === "..");
        if (ranges.length === 0)
          return { text: `${text}\nblock b(x) {\n  for i in 0..100000000 { x = x -> relu }\n  return x\n}\n`, note: "a block with a huge loop" };
        const at = pick(rng, ranges);
        const next = p.tokens[p.tokens.indexOf(at) + 1];
        if (next !== undefined) p.pieces[next] = pick(rng, ["100000000", "2**62", "1e308"]);
        return { text: p.pieces.join(""), note: "huge loop range" };
      }
      const names = p.tokens.filter((i) => /^[A-Za-z_]/.test(p.pieces[i]!));
      if (names.length === 0) return { text, note: "no names" };
      const index = pick(rng, names);
      const old = p.pieces[index]!;
      p.pieces[index] = pick(rng, ["caf\u00e9", "\u0394t", "x\u0301", "\u{1F600}", "\u0438\u043c\u044f"]);
      return { text: p.pieces.join(""), note: `${old} -> ${JSON.stringify(p.pieces[index])}` };
    },
  },
  {
    name: "line-endings",
    apply(text, rng) {
      const ending = pick(rng, ["\r\n", "\r"]);
      return { text: text.replace(/\r?\n/g, ending), note: `line endings -> ${JSON.stringify(ending)}` };
    },
  },
];

export interface FuzzCase {
  readonly runSeed: number;
  readonly index: number;
  readonly seed: number;
  /** The corpus file the case mutates; the mutated text is checked under its path. */
  readonly base: CorpusFile;
  readonly text: string;
  readonly steps: readonly string[];
  readonly options: GenerateOptions;
}

/** Case `index` of the run seeded `runSeed`: a corpus file with one to four mutations applied. */
export function generateCase(corpus: readonly CorpusFile[], runSeed: number, index: number, options: GenerateOptions = {}): FuzzCase {
  if (corpus.length === 0) throw new Error("the fuzz corpus is empty");
  const seed = caseSeed(runSeed, index);
  const rng = mulberry32(seed);
  const base = pick(rng, corpus);
  let text = base.text;
  const steps: string[] = [];
  const count = 1 + randomInt(rng, 4);
  for (let i = 0; i < count; i++) {
    const mutation = pick(rng, MUTATIONS);
    const result = mutation.apply(text, rng, options);
    text = result.text;
    steps.push(`${mutation.name}: ${result.note}`);
  }
  return { runSeed, index, seed, base, text, steps, options };
}

export interface CaseResult {
  /** Wall time of load + parse + check, in milliseconds. */
  readonly ms: number;
  readonly diagnostics: readonly Diagnostic[];
  /** What is wrong: an exception, or a diagnostic that breaks the contract. Empty when the case passed. */
  readonly problems: readonly string[];
}

/** Checks `text` as the file `entry`, with the rest of the corpus served from memory (no disk reads). */
export function checkInMemory(
  entry: string,
  text: string,
  corpus: readonly CorpusFile[],
  root: string,
): { texts: Map<string, string>; diagnostics: readonly Diagnostic[]; networks: CheckResult["networks"] } {
  const texts = new Map(corpus.map((c) => [c.file, c.text]));
  texts.set(entry, text);
  const host: Host = { readFile: (file) => texts.get(file) };
  const result = checkProgram(loadProgram([entry], { host, root }));
  return { texts, diagnostics: result.diagnostics, networks: result.networks };
}

function checkRange(range: Range | undefined, textLength: number | undefined, what: string): string | undefined {
  if (!range || typeof range !== "object") return `${what} has no range`;
  const { start, end } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end)) return `${what} range ${start}..${end} is not integral`;
  if (textLength === undefined) return undefined;
  if (!(start >= 0 && start <= end && end <= textLength)) return `${what} range ${start}..${end} is outside 0..${textLength}`;
  return undefined;
}

/**
 * Contract violations of one diagnostic list: unknown codes, missing severity or message, a file
 * that is not part of the program, or a range (also of `related` and `fix`) outside its file's text.
 */
export function diagnosticProblems(diagnostics: readonly Diagnostic[], texts: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const d of diagnostics) {
    const label = `${d.code ?? "?"} ${JSON.stringify(String(d.message ?? "").slice(0, 80))}`;
    if (!CODES.has(d.code)) problems.push(`${label}: code is not in CODES`);
    if (d.severity !== "error" && d.severity !== "warning" && d.severity !== "info") problems.push(`${label}: severity ${String(d.severity)}`);
    if (typeof d.message !== "string" || d.message.trim() === "") problems.push(`${label}: empty message`);
    if (d.hint !== undefined && (typeof d.hint !== "string" || d.hint.trim() === "")) problems.push(`${label}: empty hint`);
    const text = texts.get(d.file);
    if (text === undefined) problems.push(`${label}: file ${JSON.stringify(d.file)} is not in the program`);
    const bad = checkRange(d.range, text?.length, label);
    if (bad) problems.push(bad);
    for (const r of d.related ?? []) {
      const relatedText = texts.get(r.file);
      if (relatedText === undefined) problems.push(`${label}: related file ${JSON.stringify(r.file)} is not in the program`);
      const badRelated = checkRange(r.range, relatedText?.length, `${label} related`);
      if (badRelated) problems.push(badRelated);
    }
    if (d.fix) {
      const badFix = checkRange(d.fix.range, text?.length, `${label} fix`);
      if (badFix) problems.push(badFix);
    }
  }
  return problems;
}

/** Runs one case: load, parse and check in memory, timing it, and collect every contract violation. */
export function runCase(fuzzCase: FuzzCase, corpus: readonly CorpusFile[]): CaseResult {
  const started = performance.now();
  try {
    const { texts, diagnostics } = checkInMemory(fuzzCase.base.file, fuzzCase.text, corpus, fuzzCase.base.root);
    const ms = performance.now() - started;
    return { ms, diagnostics, problems: diagnosticProblems(diagnostics, texts) };
  } catch (error) {
    const ms = performance.now() - started;
    return { ms, diagnostics: [], problems: [`threw ${describeError(error)}`] };
  }
}

/** The error's class, message and innermost stack frames: enough to tell one bug from another. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const frames = (error.stack ?? "")
    .split("\n")
    .filter((l) => l.trim().startsWith("at "))
    .slice(0, 3)
    .map((l) => l.trim());
  return `${error.name}: ${error.message}${frames.length ? ` (${frames.join(" < ")})` : ""}`;
}

/**
 * A failure signature for grouping: the problem with numbers, quoted text and paths removed, so
 * a thousand cases hitting one bug count as one.
 */
export function problemSignature(problem: string): string {
  return problem
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/`[^`]*`/g, "`…`")
    .replace(/\d+/g, "N")
    .replace(/\((?:file|node):[^)]*\)/g, "")
    .slice(0, 200);
}

/** A failure report that reproduces the case: seed, index, mutations, problems and the exact text. */
export function formatFailure(fuzzCase: FuzzCase, result: CaseResult, budgetMs?: number): string {
  const lines = [
    `fuzz case ${fuzzCase.index} of seed ${fuzzCase.runSeed} (case seed ${fuzzCase.seed}), mutating ${fuzzCase.base.name}`,
    `  reproduce: node dist/scripts/fuzz.js --seed ${fuzzCase.runSeed} --only ${fuzzCase.index}${fuzzCase.options.maxRepeat !== undefined && fuzzCase.options.maxRepeat !== DEFAULT_MAX_REPEAT ? ` --max-repeat ${fuzzCase.options.maxRepeat}` : ""}`,
    `  mutations: ${fuzzCase.steps.join("; ")}`,
    `  time: ${result.ms.toFixed(1)} ms${budgetMs !== undefined && result.ms > budgetMs ? ` (over the ${budgetMs} ms budget)` : ""}`,
    ...result.problems.slice(0, 10).map((p) => `  problem: ${p}`),
    ...(result.problems.length > 10 ? [`  ... ${result.problems.length - 10} more`] : []),
    `  text (JSON): ${JSON.stringify(fuzzCase.text)}`,
  ];
  return lines.join("\n");
}
