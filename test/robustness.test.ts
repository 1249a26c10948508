/**
 * Hostile inputs: the parser and checker must never throw, must finish, and must report every
 * problem as a located diagnostic (known code, file of the program, 0 <= start <= end <= length).
 * Texts are checked in memory through a Host, so nothing here touches the disk.
 *
 * Cases marked `it.fails` reproduce a known bug (named in the comment above each); they pass while
 * the bug is there and start failing when it is fixed: then drop the `.fails`.
 */
import { describe, expect, it } from "vitest";
import { diagnosticProblems, mulberry32 } from "../scripts/fuzz-lib.js";
import { capDiagnostics, MAX_DIAGNOSTICS_PER_FILE, type Diagnostic } from "../src/diagnostics/diagnostic.js";
import { LineIndex } from "../src/diagnostics/location.js";
import { checkProgram } from "../src/semantics/check.js";
import { loadProgram, MAX_FILE_BYTES } from "../src/semantics/program.js";
import type * as A from "../src/syntax/ast.js";
import { MAX_DECLARATION_TOKENS, MAX_NESTING, MAX_SYNTAX_ERRORS, parseSpec } from "../src/syntax/parse.js";
import { forEachStage } from "../src/syntax/walk.js";

const ROOT = "/virtual/project";
const MAIN = `${ROOT}/main.vnet`;

interface Checked {
  readonly diagnostics: readonly Diagnostic[];
  readonly parseDiagnostics: readonly Diagnostic[];
  readonly codes: string[];
}

/**
 * Parses `text` alone and checks it as a program (with `others` as extra files), asserting the
 * diagnostic contract on both; returns the check's diagnostics.
 */
function check(text: string, others: Record<string, string> = {}): Checked {
  const texts = new Map<string, string>([[MAIN, text], ...Object.entries(others)]);
  const parsed = parseSpec(text, MAIN);
  const result = checkProgram(loadProgram([MAIN], { host: { readFile: (f) => texts.get(f) }, root: ROOT }));
  expect(diagnosticProblems(parsed.diagnostics, texts)).toEqual([]);
  expect(diagnosticProblems(result.diagnostics, texts)).toEqual([]);
  return { diagnostics: result.diagnostics, parseDiagnostics: parsed.diagnostics, codes: result.diagnostics.map((d) => d.code) };
}

/** A network around `body`, with a 16x112 clip input named `video`. */
function network(body: string, before = ""): string {
  return `${before}network n {\n  input video = clip(frames = 16, size = 112)\n${body}\n}\n`;
}

const errorsOf = (c: Checked) => c.diagnostics.filter((d) => d.severity === "error");

describe("degenerate files", () => {
  it("empty file: one VN005 warning at 0..0", () => {
    const c = check("");
    expect(c.codes).toEqual(["VN005"]);
    expect(c.diagnostics[0]!.severity).toBe("warning");
    expect(c.diagnostics[0]!.range).toEqual({ start: 0, end: 0 });
  });

  it("whitespace and comments only: VN005", () => {
    expect(check("  \n\t\r\n  \f ").codes).toEqual(["VN005"]);
    expect(check("// nothing here\n/* nor here */\n").codes).toEqual(["VN005"]);
  });

  it("a byte order mark alone is whitespace, not an invalid character", () => {
    expect(check("\uFEFF").codes).toEqual(["VN005"]);
  });

  it("binary junk (random bytes incl. NUL, invalid UTF-8 decoded): VN001, capped, located", () => {
    const rng = mulberry32(1234);
    const bytes = Buffer.alloc(16 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng() < 0.05 ? 0 : Math.floor(rng() * 256);
    const text = bytes.toString("utf8");
    expect(text).toContain("\uFFFD");
    const c = check(text);
    expect(c.codes).toContain("VN001");
    // Runs of junk are merged and the count is capped, so binary files do not flood the output.
    expect(c.codes.filter((code) => code === "VN001").length).toBeLessThanOrEqual(51);
  });

  it("a binary file (an executable's start) is one VN001 at its first NUL, not a screen of invalid characters", () => {
    const elf = Buffer.alloc(4096);
    elf.write("\u007fELF", 0, "latin1");
    for (let i = 64; i < elf.length; i += 7) elf[i] = (i * 37) & 0xff;
    const c = check(elf.toString("utf8"));
    expect(c.codes).toEqual(["VN001"]);
    expect(c.diagnostics[0]!.message).toMatch(/^binary data, not a vnet spec/);
    expect(c.diagnostics[0]!.range.start).toBe(4);
  });

  it("junk bytes inside a valid spec are reported where they are", () => {
    const text = network("  x = video -> relu\u0000\u0001\u00ff\n  output x -> global_avg_pool -> dense(10)");
    const c = check(text);
    const junk = c.diagnostics.find((d) => d.code === "VN001")!;
    expect(text.slice(junk.range.start, junk.range.end)).toBe("\u0000\u0001\u00ff");
  });

  it("a file over the size cap is refused without lexing", () => {
    const c = check("x".repeat(MAX_FILE_BYTES + 1));
    expect(c.codes).toEqual(["VN004"]);
  });
});

describe("huge and deep inputs finish with diagnostics", () => {
  it("a 1 MB single line `x = 1.5 + 1.5 + ...` parses and checks", { timeout: 30_000 }, () => {
    // Long numbers keep the token count (and the test's time) down while the line stays 1 MB.
    const text = `x = ${Array.from({ length: 46_000 }, () => "123456789.123456789").join(" + ")}`;
    expect(text.length).toBeGreaterThan(1_000_000);
    // An unused top-level constant is never evaluated, so this exercises the parser and AST builder.
    expect(errorsOf(check(text))).toEqual([]);
  });

  it("10,000 nested `(`: VN004 at the first bracket past the limit", () => {
    const text = `x = ${"(".repeat(10_000)}1`;
    const c = check(text);
    expect(c.codes).toEqual(["VN004"]);
    expect(c.diagnostics[0]!.range.start).toBe(4 + MAX_NESTING);
  });

  it("10,000 nested `[`: VN004", () => {
    expect(check(`x = ${"[".repeat(10_000)}`).codes).toEqual(["VN004"]);
  });

  it("10,000 `- - - 1`: VN004", () => {
    expect(check(`x = ${"- ".repeat(10_000)}1`).codes).toEqual(["VN004"]);
  });

  it("10,000 `not not ...`: VN004", () => {
    expect(check(`x = ${"not ".repeat(10_000)}true`).codes).toEqual(["VN004"]);
  });

  it("10,000 `if true then 1 else if ...`: VN004", () => {
    expect(check(`x = ${"if true then 1 else ".repeat(10_000)}1`).codes).toEqual(["VN004"]);
  });

  it("a 100,000-stage chain `x -> relu -> relu ...` stops at the layer limit (VN027)", { timeout: 30_000 }, () => {
    const c = check(network(`  x = video -> ${Array.from({ length: 100_000 }, () => "relu").join(" -> ")}\n  output x -> global_avg_pool -> dense(10)`));
    expect(c.codes).toContain("VN027");
  });

  it("a for-loop of 10^9 iterations: VN027 on the loop, without running it", () => {
    const c = check(network("  x = video -> for i in 0..1000000000 { relu }\n  output x -> global_avg_pool -> dense(10)"));
    const limit = c.diagnostics.find((d) => d.code === "VN027")!;
    expect(limit.message).toBe("the loop runs 1000000000 times; vnet allows 10000");
  });

  it("nested loops of 10,000 x 10,000: the layer limit stops them (VN027)", { timeout: 30_000 }, () => {
    const c = check(network("  x = video -> for i in 0..10000 { for j in 0..10000 { relu } }\n  output x -> global_avg_pool -> dense(10)"));
    expect(c.codes).toContain("VN027");
  });

  it("a list repeated 10^9 times: VN015", () => {
    expect(check(network("  output video -> global_avg_pool -> dense(len([1] * 1000000000))")).codes).toContain("VN015");
  });

  it("huge and degenerate numbers become VN014/VN015/VN026, not NaN or Infinity", () => {
    const out = (e: string) => check(network(`  output video -> global_avg_pool -> ${e}`)).codes;
    expect(out("dense(1e400)")).toContain("VN015");
    expect(out("dense(10 ** 400)")).toContain("VN015");
    expect(out("dense(0)")).toContain("VN015");
    expect(out("dense(-1)")).toContain("VN015");
    expect(out("dense(3.5)")).toContain("VN014");
    expect(out("dense(1 / 0)")).toContain("VN026");
    expect(out("dense(5 % 0)")).toContain("VN026");
  });
});

describe("blocks and imports", () => {
  /** `count` blocks, each applying the next; the last applies `relu`. */
  function blockChain(count: number, call: (next: string) => string): string {
    const blocks = Array.from({ length: count }, (_, i) => `block b${i}() {\n  input x\n  output x -> ${i + 1 < count ? call(`b${i + 1}`) : "relu"}\n}\n`);
    return network("  output video -> b0 -> global_avg_pool -> dense(10)", blocks.join(""));
  }

  it("blocks calling blocks 1,000 deep: VN027 at the call-depth limit", () => {
    expect(check(blockChain(1000, (next) => next)).codes).toContain("VN027");
  });

  it("blocks fanning out ten-fold 8 levels deep: the layer limit stops them (VN027)", { timeout: 30_000 }, () => {
    expect(check(blockChain(8, (next) => `for j in 0..10 { ${next} }`)).codes).toContain("VN027");
  });

  it("a block that calls itself: VN030", () => {
    const text = network(
      "  output video -> b(3) -> global_avg_pool -> dense(10)",
      "block b(k) {\n  input x\n  output if k == 0 then x else x -> b(k - 1)\n}\n",
    );
    expect(check(text).codes).toContain("VN030");
  });

  it("imports that are missing, cyclic or outside the root are located errors", () => {
    expect(check(`import { a } from "./missing.vnet"\n`).codes).toContain("VN031");
    expect(check(`import { a } from "../../outside.vnet"\n`).codes).toContain("VN033");
    const cyclic = check(`import { b } from "./b.vnet"\nblock a() {\n  input x\n  output x -> b\n}\n`, {
      [`${ROOT}/b.vnet`]: `import { a } from "./main.vnet"\nblock b() {\n  input x\n  output x -> a\n}\n`,
    });
    expect(cyclic.codes).toContain("VN032");
  });
});

describe("unterminated literals", () => {
  it("an unterminated string: VN003 on the string, and parsing goes on", () => {
    const text = network('  description = "never closed\n  output video -> global_avg_pool -> dense(10)');
    const c = check(text);
    const d = c.diagnostics.find((x) => x.code === "VN003")!;
    expect(text.slice(d.range.start, d.range.end)).toBe('"never closed');
  });

  it("an unterminated string at the very end of the file", () => {
    expect(check('x = "abc').codes).toContain("VN003");
    expect(check('x = "').codes).toContain("VN003");
  });

  it("an unterminated block comment: VN003 on its `/*`", () => {
    const text = network("  output video -> global_avg_pool -> dense(10)\n  /* never closed\n");
    const c = check(text);
    const d = c.diagnostics.find((x) => x.code === "VN003")!;
    expect(text.slice(d.range.start, d.range.end)).toBe("/*");
  });
});

describe("line endings and byte order marks keep positions right", () => {
  // One text with semantic errors, one with lexer and syntax errors: both paths compute offsets.
  const semantic = network("  x = video -> conv3dd(64, kernel = 3)\n  y = video -> conv3d(1 / 0, kernel = 3)\n  output x -> global_avg_pool -> dense(10)");
  const syntactic = network('  x = video -> relu # junk\n  y = "open\n  output x -> global_avg_pool -> dense(10)');

  /** Every diagnostic as code, the exact text it covers, and its line:column. */
  function located(text: string): string[] {
    const lines = new LineIndex(text);
    return check(text).diagnostics.map((d) => {
      const { line, column } = lines.positionAt(d.range.start);
      return `${d.code} ${JSON.stringify(text.slice(d.range.start, d.range.end))} ${line}:${column}`;
    });
  }

  it("LF baseline: each problem is found where it is", () => {
    expect(located(semantic)).toEqual(['VN011 "conv3dd" 3:16', 'VN042 "y" 4:3', 'VN026 "0" 4:27']);
    const syntax = located(syntactic);
    expect(syntax).toContain('VN001 "#" 3:21');
    expect(syntax).toContain('VN003 "\\"open" 4:7');
  });

  for (const [name, ending] of [
    ["CRLF", "\r\n"],
    ["CR only", "\r"],
  ] as const) {
    it(`${name}: same codes, same covered text, same line:column`, () => {
      expect(located(semantic.replace(/\n/g, ending))).toEqual(located(semantic));
      expect(located(syntactic.replace(/\n/g, ending))).toEqual(located(syntactic));
    });
  }

  it("a BOM: the same diagnostics; lines after the first keep their columns", () => {
    for (const text of [semantic, syntactic]) expect(located(`\uFEFF${text}`)).toEqual(located(text));
  });
});

/*
 * Bugs the fuzzer found, each reproduced by the smallest input found. Fixed ones are plain
 * regression tests; `it.fails` marks one still open (it turns red once fixed, so the marker goes
 * with the fix).
 */
describe("fuzzer findings", () => {
  const output = (k: string) => `  output video -> global_avg_pool -> dense(${k})`;

  // BUG-1 (fixed): the elaborating checker evaluates expressions recursively, so a long flat
  // expression the parser accepts overflowed the stack; it is now reported as VN027.
  it("BUG-1: a 10,000-term sum used by a network does not throw", () => {
    check(network(output("k"), `k = ${Array.from({ length: 10_000 }, () => "1").join(" + ")}\n`));
  });

  // BUG-1b (fixed): top-level constants are evaluated recursively on first use, so 10,000
  // constants each defined by the previous one overflowed; now VN027.
  it("BUG-1b: 10,000 chained constants `c1 = c0 + 1` do not throw", () => {
    const constants = Array.from({ length: 10_000 }, (_, i) => `c${i + 1} = ${i === 0 ? "1" : `c${i}`} + 1`).join("\n");
    check(network(output("c10000"), `${constants}\n`));
  });

  // BUG-2 (fixed): rules/walk.ts walked chains nested in stage arguments twice per level, 2^depth
  // in all (the fuzzer found it as a hang); each stage is now visited once.
  it("BUG-2: chains nested 21 deep in stage arguments: each stage is walked once", () => {
    const depth = 21;
    const text = network(`  x = video -> ${"conv3d(video -> ".repeat(depth)}relu${")".repeat(depth)}\n  output x`);
    check(text);
    const binding = (parseSpec(text).ast.items[0] as A.NetworkDecl).body.find((s) => s.kind === "Binding") as A.Binding;
    let visits = 0;
    forEachStage(binding.value, () => visits++);
    // The bug made it 2^21 visits.
    expect(visits).toBe(depth + 1);
  });

  // BUG-3 (fixed): chevrotain's in-repetition error recovery re-enters the repetition once per
  // resync, so junk inside a `{ }` body cost quadratic time and at a few thousand resyncs
  // overflowed the stack (reported as VN004, dropping every other diagnostic). parse.ts now stops
  // in-repetition recovery after 50 errors.
  it("BUG-3: junk statements in a body are recovered from without a stack overflow", () => {
    const junk = (n: number) => `network n {\n${" 3, a".repeat(n)}\n}\n`;
    // bench/checker-scaling.ts holds the timing.
    expect(check(junk(1000)).codes).toContain("VN002");
    expect(check(junk(3500)).codes).not.toContain("VN004");
  });

  // BUG-5 (fixed): every syntax error cost a copy of the whole error list (parse.ts read
  // chevrotain's copying `errors` getter) and a grammar walk, so 32,000 lines of `a b` took 105 s.
  // Follow sets are now memoised and parsing stops after MAX_SYNTAX_ERRORS with a closing note.
  it("BUG-5: 50,000 lines of junk stop at the syntax-error cap with one closing note", () => {
    const text = Array.from({ length: 50_000 }, (_, i) => `a${i} b`).join("\n");
    const { diagnostics } = parseSpec(text, MAIN);
    expect(diagnosticProblems(diagnostics, new Map([[MAIN, text]]))).toEqual([]);
    expect(diagnostics.length).toBeLessThanOrEqual(MAX_SYNTAX_ERRORS + 1);
    const last = diagnostics.at(-1)!;
    expect(last.code).toBe("VN002");
    expect(last.message).toContain(`parsing stopped after ${MAX_SYNTAX_ERRORS}`);
    // The errors before the cap are the ordinary ones, one per line.
    expect(diagnostics[0]!.message).toContain("expected `=`");
  });

  // BUG-4 (fixed): build-ast.ts buildPostfix filtered and sorted all closing tokens per suffix,
  // O(n^2 log n) for `x.a.a.a...`; it now binary-searches one sorted list.
  // Its speed is measured by bench/checker-scaling.ts; here, the result.
  it("BUG-4: 4,000 member suffixes `x.a.a...` parse into one nested member chain", () => {
    const text = `k = x${".a".repeat(4000)}`;
    let e = (parseSpec(text).ast.items[0] as A.Binding).value;
    let depth = 0;
    while (e.kind === "Member") {
      expect(e.range).toEqual({ start: 4, end: text.length - 2 * depth });
      e = e.object;
      depth++;
    }
    expect(depth).toBe(4000);
  });
});

describe("huge diagnostic counts and declarations", () => {
  // BUG-6 (fixed): more than ~120k diagnostics overflowed the stack (`all.push(...own)`); a file's
  // report now holds MAX_DIAGNOSTICS_PER_FILE of them and one VN006 that counts the rest.
  // bench/adversarial.ts ("many-diagnostics") runs it at hundreds of thousands.
  it("BUG-6: 32,000 problems in one file: 1,000 reported and one VN006 error counting the rest", { timeout: 60_000 }, () => {
    // Two networks of 8,000 `a = q` lines: each line an unknown name (error) and an unused binding (warning).
    const lines = 8_000;
    const body = Array.from({ length: lines }, (_, i) => `  a${i} = q${i}`).join("\n");
    const c = check([1, 2].map((k) => network(`${body}\n  output video -> global_avg_pool -> dense(2)`).replace("network n", `network n${k}`)).join(""));
    expect(c.diagnostics.length).toBe(MAX_DIAGNOSTICS_PER_FILE + 1);
    const note = c.diagnostics.at(-1)!;
    expect(note.code).toBe("VN006");
    expect(note.severity).toBe("error");
    const rest = 4 * lines - MAX_DIAGNOSTICS_PER_FILE;
    expect(note.message).toBe(`${rest} more problem(s) in this file are not shown: ${rest / 2} error(s), ${rest / 2} warning(s)`);
  });

  it("capDiagnostics keeps each file's first diagnostics; a note of warnings only is a warning", () => {
    const d = (file: string, start: number, severity: "error" | "warning") => ({
      code: "VN010" as const,
      severity,
      message: "m",
      file,
      range: { start, end: start + 1 },
    });
    const capped = capDiagnostics([d("a", 0, "error"), d("a", 1, "warning"), d("a", 2, "warning"), d("b", 0, "error")], 1);
    expect(capped.map((x) => `${x.file}:${x.code}:${x.severity}:${x.range.start}`)).toEqual(["a:VN010:error:0", "a:VN006:warning:1", "b:VN010:error:0"]);
    expect(capped[1]!.message).toBe("2 more problem(s) in this file are not shown: 2 warning(s)");
  });

  it(`a declaration over ${MAX_DECLARATION_TOKENS} tokens is a VN004 on its first token; the declarations after it are read`, { timeout: 60_000 }, () => {
    const huge = `big = [${Array.from({ length: MAX_DECLARATION_TOKENS / 2 + 10 }, () => "1").join(", ")}]`;
    const c = check(`${huge}\nnetwork n {\n  input video = clip(frames = 16, size = 112)\n  output video -> nope\n}\n`);
    // The file does not parse, so it is reported by its syntax errors alone.
    expect(c.codes).toEqual(["VN004"]);
    expect(c.diagnostics[0]!.range).toEqual({ start: 0, end: 3 });
    expect(c.diagnostics[0]!.message).toContain(`vnet reads declarations of up to ${MAX_DECLARATION_TOKENS} tokens`);
    expect(parseSpec(`${huge}\nnetwork n {\n}\n`).ast.items.map((i) => i.kind)).toEqual(["Network"]);
  });

  it("parsing one declaration at a time gives the whole-file parse's messages at a declaration's end", () => {
    // The chunk's end stands for the next declaration's first token: the message names it.
    const c = check("a = 1 +\nnetwork n {\n  input video = clip(frames = 16, size = 112)\n  output video -> global_avg_pool -> dense(2)\n}\n");
    expect(c.codes).toEqual(["VN002"]);
    expect(c.diagnostics[0]!.message).toBe("expected a value but found `network`");
  });
});
