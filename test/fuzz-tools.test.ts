/**
 * CI-sized run of the editor-facing fuzzer (scripts/fuzz-tools.ts): on mutated copies of every spec
 * under specs/, hover, completion and definition at random offsets never throw, and a text that
 * parses formats idempotently to a text that checks the same (diagnostics, parameter and MAC
 * totals). Long runs, in worker threads with a heap limit and a hang watchdog:
 * `node dist/bench/fuzz-tools.js --cases 5000`.
 *
 * VNET_FUZZ_TOOLS_CASES and VNET_FUZZ_SEED override the defaults.
 */
import { describe, expect, it } from "vitest";
import { formatFailure, generateCase, loadCorpus, type FuzzCase } from "../scripts/fuzz-lib.js";
import { runToolsCase } from "../scripts/fuzz-tools.js";

const CASES = Number(process.env.VNET_FUZZ_TOOLS_CASES ?? 150);
const SEED = Number(process.env.VNET_FUZZ_SEED ?? 1);

describe("formatter and language server on mutated specs", () => {
  const corpus = loadCorpus();

  it("the checks see what they should: a deep sum (once a formatter stack overflow) is refused cleanly, a broken text is not formatted", async () => {
    const base = corpus.find((c) => c.name.endsWith("tiny_c3d.vnet"))!;
    const make = (text: string): FuzzCase => ({ runSeed: 0, index: 0, seed: 1, base, text, steps: ["hand-written"], options: {} });
    const deep = base.text.replace("classes = 5", `classes = 5\n  _k = 1${" + 1".repeat(3000)}`);
    const result = await runToolsCase(make(deep), corpus);
    expect(result.problems).toEqual([]);
    expect(result.parsed).toBe(true);
    const broken = await runToolsCase(make(base.text.replace("{", "{ (")), corpus);
    expect(broken.parsed).toBe(false);
    expect(broken.problems).toEqual([]);
  });

  it(`${CASES} fixed-seed cases (seed ${SEED}) pass`, { timeout: 60_000 }, async () => {
    const failures: string[] = [];
    let parsed = 0;
    for (let index = 0; index < CASES; index++) {
      const fuzzCase = generateCase(corpus, SEED, index, { maxRepeat: 30 });
      const result = await runToolsCase(fuzzCase, corpus, 3);
      if (result.parsed) parsed++;
      if (result.problems.length > 0) failures.push(formatFailure(fuzzCase, { ms: result.ms, diagnostics: [], problems: result.problems }).slice(0, 3000));
    }
    expect(failures.slice(0, 3).join("\n\n")).toBe("");
    // Some cases must parse, or the format half checks nothing.
    expect(parsed).toBeGreaterThan(CASES / 10);
  });
});
