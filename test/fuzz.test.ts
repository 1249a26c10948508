/**
 * CI-sized run of the mutation fuzzer (scripts/fuzz-lib.ts): mutated copies of every spec under
 * specs/ must check without an exception and with every diagnostic carrying a known code, a
 * severity, a message and a range inside its file. Long runs, which also hold each case to a time
 * budget: `node dist/scripts/fuzz.js`.
 *
 * VNET_FUZZ_CASES and VNET_FUZZ_SEED override the defaults (e.g. to replay a CI failure locally).
 */
import { describe, expect, it } from "vitest";
import {
  diagnosticProblems,
  formatFailure,
  generateCase,
  loadCorpus,
  MUTATIONS,
  mulberry32,
  runCase,
  VOCABULARY,
  type CaseResult,
  type FuzzCase,
} from "../scripts/fuzz-lib.js";
import { checkLarge, LARGE_KINDS } from "../scripts/fuzz-large.js";
import { MAX_DIAGNOSTICS_PER_FILE, type Diagnostic } from "../src/diagnostics/diagnostic.js";

const CASES = Number(process.env.VNET_FUZZ_CASES ?? 400);
const SEED = Number(process.env.VNET_FUZZ_SEED ?? 1);
/** For failure reports only: the time budget is the long runs' (scripts/fuzz.ts), not a unit test's. */
const BUDGET_MS = 2000;

/** Deepest `(` nesting outside strings and comments. */

/**
 * At most 30 extra copies per `repeat-span` (the long runs use 300): hundreds of repeated junk
 * tokens hit BUG-3 (parser recovery, ~3 ms per syntax error), which would make CI timing flaky.
 */
const OPTIONS = { maxRepeat: 30 };

describe("fuzzer building blocks", () => {
  it("mulberry32 is deterministic and in [0, 1)", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
  });

  it("the same seed and index give the same case", () => {
    const corpus = loadCorpus();
    expect(corpus.length).toBeGreaterThan(0);
    for (const index of [0, 1, 17, 999]) {
      expect(generateCase(corpus, SEED, index).text).toBe(generateCase(corpus, SEED, index).text);
    }
    expect(generateCase(corpus, SEED, 0).text).not.toBe(generateCase(corpus, SEED + 1, 0).text);
  });

  it("every mutation keeps the text a string and says what it did", () => {
    const rng = mulberry32(7);
    const text = "network n {\n  input video = clip(frames = 16, size = 112)\n  output video -> global_avg_pool -> dense(10)\n}\n";
    for (const mutation of MUTATIONS) {
      for (let i = 0; i < 20; i++) {
        const result = mutation.apply(text, rng, {});
        expect(typeof result.text).toBe("string");
        expect(result.note.length).toBeGreaterThan(0);
      }
    }
    expect(VOCABULARY).toContain("conv3d");
    expect(VOCABULARY).toContain("network");
  });

  it("the contract check accepts a clean case and catches forged diagnostics", () => {
    const corpus = loadCorpus();
    expect(runCase(generateCase(corpus, SEED, 0), corpus).problems).toEqual([]);
    const texts = new Map([["/p/a.vnet", "network n {}"]]);
    const good: Diagnostic = { code: "VN002", severity: "error", message: "m", file: "/p/a.vnet", range: { start: 0, end: 12 } };
    expect(diagnosticProblems([good], texts)).toEqual([]);
    const forged: Diagnostic[] = [
      { ...good, code: "VN999" },
      { ...good, message: " " },
      { ...good, severity: "fatal" as Diagnostic["severity"] },
      { ...good, file: "/p/other.vnet" },
      { ...good, range: { start: 5, end: 4 } },
      { ...good, range: { start: -1, end: 0 } },
      { ...good, range: { start: 0, end: 13 } },
      { ...good, range: { start: 0, end: Number.NaN } },
      { ...good, related: [{ message: "r", file: "/p/a.vnet", range: { start: 20, end: 20 } }] },
    ];
    for (const d of forged) expect(diagnosticProblems([d], texts), JSON.stringify(d)).toHaveLength(1);
  });
});

describe(`mutation fuzzing: ${CASES} cases, seed ${SEED}`, () => {
  it("never throws and reports only located, known diagnostics", () => {
    const corpus = loadCorpus();
    const failures: { fuzzCase: FuzzCase; result: CaseResult }[] = [];
    const times: number[] = [];
    let diagnostics = 0;
    const started = performance.now();
    for (let index = 0; index < CASES; index++) {
      const fuzzCase = generateCase(corpus, SEED, index, OPTIONS);
      const result = runCase(fuzzCase, corpus);
      times.push(result.ms);
      diagnostics += result.diagnostics.length;
      if (result.problems.length > 0) failures.push({ fuzzCase, result });
    }
    const sorted = [...times].sort((a, b) => a - b);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fuzz: ${CASES} cases in ${seconds.toFixed(1)} s (${(CASES / seconds).toFixed(0)}/s), ${diagnostics} diagnostics, ` +
        `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms, ${failures.length} failing`,
    );
    // The report carries the seed, the mutations and the exact text, so a CI failure replays locally.
    const report = failures
      .slice(0, 5)
      .map(({ fuzzCase, result }) => formatFailure(fuzzCase, result, BUDGET_MS))
      .join("\n\n");
    expect(failures.length, report).toBe(0);
  });
});

/**
 * The large and adversarial specs of scripts/fuzz-large.ts at a CI size (8 kB): each checks without
 * an exception, within the diagnostic contract and the report's cap, and with the limit its kind
 * must stop at. `bench/adversarial.ts` runs them at megabytes through the CLI and the language server.
 */
describe("large and adversarial specs at 8 kB", () => {
  for (const kind of LARGE_KINDS) {
    it(`${kind.name}: ${kind.doc}`, { timeout: 60_000 }, () => {
      const spec = kind.make(8_000, SEED);
      const { diagnostics, problems } = checkLarge(spec);
      expect(problems).toEqual([]);
      const perFile = new Map<string, number>();
      for (const d of diagnostics) perFile.set(d.file, (perFile.get(d.file) ?? 0) + 1);
      for (const count of perFile.values()) expect(count).toBeLessThanOrEqual(MAX_DIAGNOSTICS_PER_FILE + 1);
      for (const code of kind.expect ?? []) expect(diagnostics.map((d) => d.code)).toContain(code);
    });
  }
});
