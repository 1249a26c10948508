/**
 * Large and adversarial specs, by kind and size: what the mutation fuzzer (fuzz-lib.ts) never
 * makes. Each kind builds a spec of about `bytes` characters that stresses one thing: evaluation
 * (lists doubled thirty times, sums of a million terms, huge loops), the parser (junk, deep
 * nesting, long chains), name resolution (many blocks, long identifiers), the diagnostics path
 * (hundreds of thousands of problems) and the text itself (huge numbers, pathological unicode).
 *
 * `test/fuzz.test.ts` checks every kind at a small size in process; `bench/adversarial.ts` runs
 * them at a few megabytes through the CLI and the language server and holds them to the budget
 * (seconds, under 1 GB of memory). Generation is deterministic: kind, size and seed give one text.
 */
import type { Diagnostic } from "../src/diagnostics/diagnostic.js";
import { checkInMemory, diagnosticProblems, mulberry32, VOCABULARY, type CorpusFile } from "./fuzz-lib.js";

export interface LargeSpec {
  /** The entry file's text. */
  readonly text: string;
  /** Other files of the project by name relative to the entry (for imports). */
  readonly others?: Readonly<Record<string, string>>;
}

export interface LargeKind {
  readonly name: string;
  readonly doc: string;
  /** A spec of about `bytes` characters (some kinds are small whatever the size: what they stress is not length). */
  make(bytes: number, seed: number): LargeSpec;
  /** Codes the check must report (the limit that stops the spec), when it must stop with one. */
  readonly expect?: readonly string[];
}

const HEAD = "network n {\n  classes = 10\n  input video = clip(frames = 8, size = 32)\n";
const TAIL = "}\n";

/** A network whose body is `body` and whose output is `output`. */
function network(body: string, output = "video -> global_avg_pool -> dense(classes)"): string {
  return `${HEAD}${body}\n  output ${output}\n${TAIL}`;
}

/** `count` copies of `piece(i)` joined by `separator`, as many as fit in about `bytes` characters. */
function repeatTo(bytes: number, piece: (i: number) => string, separator = "\n"): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const p = piece(i);
    parts.push(p);
    length += p.length + separator.length;
  }
  return parts.join(separator);
}

/** Characters that break naive text handling: combining marks, bidi overrides, joiners, lone surrogates, NUL. */
const PATHOLOGICAL = [
  "e\u0301\u0301\u0301",
  "\u202e",
  "\u202d",
  "\u200b",
  "\u200d",
  "\u{1F468}\u200d\u{1F469}\u200d\u{1F467}",
  "\uD800",
  "\uDC00",
  "\uFEFF",
  "\u0000",
  "\u2028",
  "\u2029",
  "\uFFFF",
  "\u0301",
];

/** A kind as written below: its maker may return the entry text alone. */
type RawKind = Omit<LargeKind, "make"> & { make(bytes: number, seed: number): string | LargeSpec };

const RAW_KINDS: readonly RawKind[] = [
  {
    name: "list-doubling",
    doc: "A list doubled thirty times by `+` (2^30 items unchecked).",
    expect: ["VN015"],
    make: () =>
      network(
        Array.from({ length: 31 }, (_, i) => (i === 0 ? "  a0 = [1]" : `  a${i} = a${i - 1} + a${i - 1}`)).join("\n"),
        "video -> global_avg_pool -> dense(len(a30))",
      ),
  },
  {
    name: "shared-nesting",
    doc: "A list that holds itself twice, thirty levels deep (2^30 leaves sharing structure), compared and printed in a message.",
    make: () =>
      network(
        Array.from({ length: 31 }, (_, i) => (i === 0 ? "  a0 = [1]" : `  a${i} = [a${i - 1}, a${i - 1}]`)).join("\n") + "\n  same = a30 == a30",
        "video -> global_avg_pool -> dense(if same then a30 else 10)",
      ),
  },
  {
    name: "string-doubling",
    doc: "A string doubled thirty times by `+`.",
    expect: ["VN015"],
    make: () =>
      network(Array.from({ length: 31 }, (_, i) => (i === 0 ? '  s0 = "ab"' : `  s${i} = s${i - 1} + s${i - 1}`)).join("\n") + "\n  description = s30"),
  },
  {
    name: "long-sum",
    doc: "One binding `k = 1 + 1 + ...` as long as the file, used by the network.",
    make: (bytes) => network(`  k = ${repeatTo(bytes, () => "1", " + ")}`, "video -> global_avg_pool -> dense(k)"),
  },
  {
    name: "long-chain",
    doc: "One chain `video -> relu -> relu ...` as long as the file.",
    make: (bytes) => network(`  x = video -> ${repeatTo(bytes, () => "relu", " -> ")}`, "x -> global_avg_pool -> dense(classes)"),
  },
  {
    name: "huge-loops",
    doc: "A loop of 10^9 iterations, nested loops of 10^4 x 10^4, and blocks fanning out ten-fold per level.",
    expect: ["VN027"],
    make: () => {
      const blocks = Array.from(
        { length: 8 },
        (_, i) => `block f${i}() {\n  input x\n  output x -> ${i < 7 ? `for j in 0..10 { f${i + 1} }` : "relu"}\n}\n`,
      ).join("");
      return `${blocks}${network("  a = video -> for i in 0..1000000000 { relu }\n  b = video -> for i in 0..10000 { for j in 0..10000 { relu } }\n  c = video -> f0", "c -> global_avg_pool -> dense(classes)")}`;
    },
  },
  {
    name: "work-budget",
    doc: "Loops of list literals that each stay under the layer and list limits but together do more than the work budget.",
    expect: ["VN027"],
    make: () => {
      const items = Array.from({ length: 2000 }, () => "1").join(", ");
      return network(
        `  x = video -> for i in 0..10000 { for j in 0..10000 { conv3d(len([${items}]), kernel = 1) } }`,
        "x -> global_avg_pool -> dense(classes)",
      );
    },
  },
  {
    name: "junk",
    doc: "Lines of random language tokens and punctuation: parser recovery on every line.",
    make: (bytes, seed) => {
      const rng = mulberry32(seed);
      return repeatTo(bytes, () => Array.from({ length: 1 + Math.floor(rng() * 6) }, () => VOCABULARY[Math.floor(rng() * VOCABULARY.length)]!).join(" "));
    },
  },
  {
    name: "junk-statements",
    doc: "A network body of `a b` statements (a binding without `=`): one syntax error per line, the case that was quadratic.",
    make: (bytes) => `network n {\n${repeatTo(bytes, (i) => `  a${i} b`)}\n}\n`,
  },
  {
    name: "many-blocks",
    doc: "Tens of thousands of small blocks: most unused, a few applied, one library block per line calling the next.",
    make: (bytes) => {
      const blocks = repeatTo(bytes, (i) => `block b${i}(k = 1) {\n  input x\n  output x -> relu\n}`);
      return `${blocks}\n${network("  x = video -> b0 -> b1 -> b2", "x -> global_avg_pool -> dense(classes)")}`;
    },
  },
  {
    name: "block-chain",
    doc: "Blocks that each apply the next, thousands deep (the call-depth limit stops the expansion).",
    expect: ["VN027"],
    make: (bytes) => {
      const count = Math.max(100, Math.floor(bytes / 48));
      const blocks = Array.from({ length: count }, (_, i) => `block b${i}() {\n  input x\n  output x -> ${i + 1 < count ? `b${i + 1}` : "relu"}\n}\n`).join("");
      return `${blocks}${network("", "video -> b0 -> global_avg_pool -> dense(classes)")}`;
    },
  },
  {
    name: "many-statements",
    doc: "A network of tens of thousands of bindings, each reading the one before.",
    make: (bytes) => network(repeatTo(bytes, (i) => `  x${i + 1} = x${i} -> relu`).replace("x0 ->", "video ->"), "video -> global_avg_pool -> dense(classes)"),
  },
  {
    name: "many-diagnostics",
    doc: "Hundreds of thousands of unknown names: more problems than any report should list.",
    make: (bytes) => network(repeatTo(bytes, (i) => `  a${i} = q${i}`)),
  },
  {
    name: "deep-nesting",
    doc: "Brackets nested just under the parser's limit, in lists, parentheses and per_frame bodies.",
    make: (bytes) => {
      const depth = 120;
      const list = `${"[".repeat(depth)}1${"]".repeat(depth)}`;
      const parens = `${"(".repeat(depth)}1${")".repeat(depth)}`;
      const frames = `${"per_frame { ".repeat(3)}relu${" }".repeat(3)}`;
      return network(repeatTo(bytes, (i) => `  l${i} = ${list}\n  p${i} = ${parens}`) + `\n  f = video -> ${frames}`);
    },
  },
  {
    name: "wide-list",
    doc: "A list literal as long as the file, summed, maximised and compared; `class_names` with as many entries.",
    make: (bytes) => {
      const items = repeatTo(bytes / 2, (i) => String(i % 97), ", ");
      const names = repeatTo(bytes / 2, (i) => `"c${i}"`, ", ");
      return network(
        `  xs = [${items}]\n  class_names = [${names}]\n  same = xs == xs`,
        "video -> global_avg_pool -> dense(if same then max(xs) - max(xs) + classes else 1)",
      );
    },
  },
  {
    name: "member-chain",
    doc: "`x.a.a.a...` member suffixes as long as the file (once quadratic in the AST builder).",
    make: (bytes) => network(`  k = video${repeatTo(bytes, () => ".channels", "")}`),
  },
  {
    name: "big-numbers",
    doc: "Numbers with thousands of digits, overflowing arithmetic, and 1e308 * 1e308.",
    make: (bytes) => {
      const digits = "9".repeat(Math.min(bytes, 100_000));
      return network(
        `  a = ${digits}\n  b = 1e308 * 1e308\n  c = 2 ** 1024\n  d = -${digits}.${digits}\n  e = 0.${"0".repeat(400)}1`,
        "video -> global_avg_pool -> dense(a + b + c + d + e)",
      );
    },
  },
  {
    name: "long-identifiers",
    doc: "Identifiers of tens of thousands of characters, defined, used and misspelt (suggestion search on long names).",
    make: (bytes) => {
      const long = `n${"a".repeat(Math.min(bytes / 8, 50_000))}`;
      return network(`  ${long} = 3\n  ${long}b = ${long}\n  z = ${long}c`, `video -> global_avg_pool -> dense(${long})`);
    },
  },
  {
    name: "unicode",
    doc: "Combining marks, bidi overrides, zero-width joiners, lone surrogates and NUL in comments, strings and between tokens.",
    make: (bytes, seed) => {
      const rng = mulberry32(seed);
      const pick = () => PATHOLOGICAL[Math.floor(rng() * PATHOLOGICAL.length)]!;
      const lines = repeatTo(bytes, (i) => `  // ${pick().repeat(3)} comment ${pick()}\n  s${i} = "${pick()}${pick()}" ${i % 7 === 0 ? pick() : ""}`);
      return network(lines);
    },
  },
  {
    name: "many-imports",
    doc: "An import of thousands of names from a library of thousands of blocks, most unused.",
    make: (bytes) => {
      const count = Math.max(10, Math.floor(bytes / 60));
      const lib = Array.from({ length: count }, (_, i) => `block lib${i}() {\n  input x\n  output x -> relu\n}\n`).join("");
      const names = Array.from({ length: count }, (_, i) => `lib${i}`).join(", ");
      return {
        text: `import { ${names}, missing } from "./lib.vnet"\n${network("", "video -> lib0 -> global_avg_pool -> dense(classes)")}`,
        others: { "lib.vnet": lib },
      };
    },
  },
];

export const LARGE_KINDS: readonly LargeKind[] = RAW_KINDS.map((kind) => ({
  ...kind,
  make(bytes: number, seed: number): LargeSpec {
    const made = kind.make(bytes, seed);
    return typeof made === "string" ? { text: made } : made;
  },
}));

/** The project root large specs are checked under, in memory. */
export const LARGE_ROOT = "/virtual/large";

/** Checks `spec` in memory as `main.vnet` of LARGE_ROOT, its other files beside it; returns its problems (fuzz-lib's contract) too. */
export function checkLarge(spec: LargeSpec): { diagnostics: readonly Diagnostic[]; problems: string[] } {
  const others: CorpusFile[] = Object.entries(spec.others ?? {}).map(([name, text]) => ({ file: `${LARGE_ROOT}/${name}`, name, root: LARGE_ROOT, text }));
  const { texts, diagnostics } = checkInMemory(`${LARGE_ROOT}/main.vnet`, spec.text, others, LARGE_ROOT);
  return { diagnostics, problems: diagnosticProblems(diagnostics, texts) };
}
