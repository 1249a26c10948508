/**
 * The formatter (prettier plugin + `vnet fmt`), as prettier tests its own printers: for every spec
 * the output is what `vnet fmt` writes, a second format changes nothing, the AST is unchanged and
 * every comment survives. Focused cases pin the style; a sweep puts comments between every pair of
 * tokens of a spec using all of the syntax.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as prettier from "prettier";
import { afterAll, describe, expect, it } from "vitest";
import { expandSpecPaths } from "../src/cli/util.js";
import { formatSpec } from "../src/prettier/format.js";
import plugin, { VnetSyntaxError } from "../src/prettier/plugin.js";
import { parseSpec } from "../src/syntax/parse.js";
import { type CliRun, vnet } from "./helpers.js";

const SPECS = path.resolve(__dirname, "../specs");
const specFiles = expandSpecPaths([SPECS]).map((file) => path.relative(SPECS, file));

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-format-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function parses(text: string): boolean {
  return parseSpec(text).diagnostics.every((d) => d.severity !== "error");
}

/** The AST without what formatting may change: ranges, the raw text of numbers, comments. */
function comparableAst(text: string): unknown {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== "object") return value;
    const node = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key]) => key !== "range" && key !== "comments" && !(key === "raw" && node.kind === "Number"))
        .map(([key, child]) => [key, strip(child)]),
    );
  };
  return strip(parseSpec(text).ast);
}

/** Comment texts in order; line comments may lose trailing blanks. */
function commentTexts(text: string): string[] {
  return parseSpec(text).ast.comments.map((c) => (c.block ? c.text : c.text.trimEnd()));
}

const format = (text: string, printWidth?: number) => formatSpec(text, printWidth === undefined ? {} : { printWidth });

/** Formats `text` and checks the invariants every output must hold; returns the output. */
async function formatChecked(text: string, printWidth?: number): Promise<string> {
  const formatted = await format(text, printWidth);
  expect(await format(formatted, printWidth), "a second format changes nothing").toBe(formatted);
  expect(comparableAst(formatted), "the AST is unchanged").toEqual(comparableAst(text));
  expect(commentTexts(formatted), "every comment is kept, in order").toEqual(commentTexts(text));
  return formatted;
}

/** `vnet fmt ...` and the like, through the shared in-process CLI harness. */
const run = (...args: string[]): Promise<CliRun> => vnet(args);

describe("every spec", () => {
  // One snapshot of specs/ for the whole suite: other tools may edit specs meanwhile.
  const copy = path.join(scratch, "specs");
  fs.cpSync(SPECS, copy, { recursive: true });
  const originals = new Map(specFiles.map((file) => [file, fs.readFileSync(path.join(copy, file), "utf8")]));
  const parsing = specFiles.filter((file) => parses(originals.get(file)!));

  it("has specs to format", () => {
    expect(parsing.length).toBeGreaterThan(2);
    expect(parsing).toContain("r3d_18.vnet");
    expect(parsing.some((file) => file.startsWith("lib"))).toBe(true);
  });

  it("is formatted already: `vnet fmt --check specs` passes, skipping the cases that must not parse", async () => {
    const { code, err } = await run("fmt", "--check", copy);
    expect(err).toMatch(/ file\(s\) already formatted; \d+ expected-diagnostic case\(s\) that do not parse skipped/);
    expect(code).toBe(0);
  });

  it.each(parsing)("%s: idempotent, same AST, all comments kept", async (file) => {
    await formatChecked(originals.get(file)!);
  });

  it("`vnet fmt` writes exactly the plugin's output, and `--check` then passes", async () => {
    const { code } = await run("fmt", ...parsing.map((file) => path.join(copy, file)));
    expect(code).toBe(0);
    for (const file of parsing) {
      const expected = await formatSpec(originals.get(file)!, { filepath: path.join(copy, file), resolveConfig: true });
      expect(fs.readFileSync(path.join(copy, file), "utf8"), file).toBe(expected);
    }
    const check = await run("fmt", "--check", ...parsing.map((file) => path.join(copy, file)));
    expect(check.code).toBe(0);
    expect(check.out).toBe("");
  });

  it.each(specFiles.filter((file) => !parses(originals.get(file)!)))("%s does not parse: refused", async (file) => {
    await expect(format(originals.get(file)!)).rejects.toBeInstanceOf(VnetSyntaxError);
  });
});

describe("vnet fmt", () => {
  const messy = "network n {\n  input video = clip(frames=8,size=32)\n  output video->global_avg_pool->dense( 4 )\n}\n";
  const tidy = "network n {\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(4)\n}\n";

  it("--check lists the files that would change and exits 1, changing nothing", async () => {
    const dir = fs.mkdtempSync(path.join(scratch, "check-"));
    fs.writeFileSync(path.join(dir, "messy.vnet"), messy);
    fs.writeFileSync(path.join(dir, "tidy.vnet"), tidy);
    const { code, out, err } = await run("fmt", "--check", dir);
    expect(code).toBe(1);
    expect(out).toContain("messy.vnet");
    expect(out).not.toContain("tidy.vnet");
    expect(err).toContain("1 of 2 file(s) would be reformatted");
    expect(fs.readFileSync(path.join(dir, "messy.vnet"), "utf8")).toBe(messy);
  });

  it("formats in place, writing only files that change", async () => {
    const dir = fs.mkdtempSync(path.join(scratch, "write-"));
    fs.writeFileSync(path.join(dir, "messy.vnet"), messy);
    fs.writeFileSync(path.join(dir, "tidy.vnet"), tidy);
    const past = new Date(2000, 0, 1);
    fs.utimesSync(path.join(dir, "tidy.vnet"), past, past);
    const { code, out } = await run("fmt", dir);
    expect(code).toBe(0);
    expect(out).toContain("formatted");
    expect(out).not.toContain("tidy.vnet");
    expect(fs.readFileSync(path.join(dir, "messy.vnet"), "utf8")).toBe(tidy);
    expect(fs.statSync(path.join(dir, "tidy.vnet")).mtime.getTime()).toBe(past.getTime());
    expect(fs.readdirSync(dir).sort()).toEqual(["messy.vnet", "tidy.vnet"]);
  });

  it("leaves a spec that does not parse untouched, with a located error, and exits 1", async () => {
    const dir = fs.mkdtempSync(path.join(scratch, "broken-"));
    const broken = "network n {\n  input video = clip(frames = 8, size = 32)\n  output video -> dense(4 kernel = 3)\n}\n";
    const file = path.join(dir, "broken.vnet");
    fs.writeFileSync(file, broken);
    fs.writeFileSync(path.join(dir, "messy.vnet"), messy);
    const { code, err } = await run("fmt", dir);
    expect(code).toBe(1);
    expect(err).toMatch(/broken\.vnet:3:27 {2}error VN002 {2}expected `\)` but found name `kernel`/);
    expect(fs.readFileSync(file, "utf8")).toBe(broken);
    // The other file is still formatted.
    expect(fs.readFileSync(path.join(dir, "messy.vnet"), "utf8")).toBe(tidy);
    const check = await run("fmt", "--check", file);
    expect(check.code).toBe(1);
  });

  it("skips, with a note, a test case whose `// expect:` header names the syntax errors it has", async () => {
    const dir = fs.mkdtempSync(path.join(scratch, "expected-"));
    const declared = "// expect: VN002\nnetwork n {\n  output video -> dense(4 kernel = 3)\n}\n";
    fs.writeFileSync(path.join(dir, "declared.vnet"), declared);
    fs.writeFileSync(path.join(dir, "tidy.vnet"), tidy);
    const check = await run("fmt", "--check", dir);
    expect(check.code).toBe(0);
    expect(check.err).toContain("declared.vnet: skipped, it does not parse as its `// expect: VN002` header says");
    expect(check.err).toContain("1 file(s) already formatted; 1 expected-diagnostic case(s) that do not parse skipped");
    // A header that names other codes than the file's syntax errors does not excuse them.
    fs.writeFileSync(path.join(dir, "declared.vnet"), declared.replace("VN002", "VN020"));
    expect((await run("fmt", "--check", dir)).code).toBe(1);
    expect(fs.readFileSync(path.join(dir, "declared.vnet"), "utf8")).toBe(declared.replace("VN002", "VN020"));
  });

  it("exits 2 on usage errors", async () => {
    expect((await run("fmt")).code).toBe(2);
    expect((await run("fmt", "--frobnicate", SPECS)).code).toBe(2);
    expect((await run("fmt", path.join(scratch, "no-such-dir"))).code).toBe(2);
  });
});

describe("the prettier plugin", () => {
  it("is found by file extension and formats through prettier's own API", async () => {
    const info = await prettier.getSupportInfo({ plugins: [plugin] });
    expect(info.languages.find((l) => l.name === "vnet")?.extensions).toContain(".vnet");
    const out = await prettier.format("network n { input x = clip(frames = 8, size = 32) output x->relu }", { filepath: "n.vnet", plugins: [plugin] });
    expect(out).toBe("network n {\n  input x = clip(frames = 8, size = 32)\n  output x -> relu\n}\n");
  });

  it("throws a located syntax error instead of printing a broken spec", async () => {
    const error = await format("network n {\n  x = [1, 2\n}\n").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VnetSyntaxError);
    expect((error as VnetSyntaxError).code).toBe("VN002");
    expect((error as VnetSyntaxError).loc.start).toEqual({ line: 3, column: 1 });
    for (const broken of ['x = "open\n', "x = 1 /* never closed\n", "x = 1;\n"]) {
      await expect(format(broken)).rejects.toBeInstanceOf(VnetSyntaxError);
    }
  });
});

describe("nesting the printer cannot take", () => {
  const spec = (k: string) => `network n {\n  k = ${k}\n  input x = clip(frames = 8, size = 32)\n  output x -> relu -> dense(k)\n}\n`;

  it("a 3,000-term sum or index chain, which checks, is refused with a located VN004, not a stack overflow", async () => {
    for (const k of [`1${" + 1".repeat(3000)}`, `[1]${"[0]".repeat(3000)}`]) {
      const error = await format(spec(k)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VnetSyntaxError);
      expect((error as VnetSyntaxError).code).toBe("VN004");
      expect((error as VnetSyntaxError).loc.start).toEqual({ line: 2, column: 7 });
      expect((error as VnetSyntaxError).diagnostics[0]!.hint).toMatch(/named bindings/);
    }
  });

  it("a long chain within the limit still formats, idempotently", async () => {
    const text = spec(`1${" + 1".repeat(200)}`);
    expect(comparableAst(await formatChecked(text))).toEqual(comparableAst(text));
  });
});

describe("style", () => {
  it("breaks a long chain before every `->`, one stage per line, and keeps short ones on one line", async () => {
    const text = [
      "network n {",
      "  input video = clip(frames = 16, size = 112)",
      "  x = video -> conv3d(64, kernel = [3, 7, 7], stride = [1, 2, 2], pad = [1, 3, 3], bias = false) as stem -> bn -> relu",
      "  output x -> global_avg_pool -> dense(10)",
      "}",
      "",
    ].join("\n");
    expect(await formatChecked(text)).toBe(
      [
        "network n {",
        "  input video = clip(frames = 16, size = 112)",
        "  x = video",
        "    -> conv3d(64, kernel = [3, 7, 7], stride = [1, 2, 2], pad = [1, 3, 3], bias = false) as stem",
        "    -> bn",
        "    -> relu",
        "  output x -> global_avg_pool -> dense(10)",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("breaks long argument and parameter lists one per line, and follows printWidth", async () => {
    const text = "block b(filters, stride = 1) {\n  input x\n  output x -> conv3d(filters, kernel = 3, stride = stride, pad = 1, bias = false) -> bn\n}\n";
    expect(await formatChecked(text, 40)).toBe(
      [
        "block b(filters, stride = 1) {",
        "  input x",
        "  output x",
        "    -> conv3d(",
        "      filters,",
        "      kernel = 3,",
        "      stride = stride,",
        "      pad = 1,",
        "      bias = false",
        "    )",
        "    -> bn",
        "}",
        "",
      ].join("\n"),
    );
    expect(await formatChecked(text)).toBe(
      "block b(filters, stride = 1) {\n  input x\n  output x -> conv3d(filters, kernel = 3, stride = stride, pad = 1, bias = false) -> bn\n}\n",
    );
  });

  it("prints sections inline when short, else one setting per line; nested sections always break", async () => {
    const text = [
      "network n {",
      "  input video = clip(frames = 16, size = 112)",
      "  output video -> global_avg_pool -> dense(2)",
      '  sampling { train { stride = 2 crop = 112 } short_videos = "loop" }',
      '  training { optimizer = "sgd", lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 1e-4, schedule = "cosine" }',
      '  inflate base { init = "repeat", "conv1" { kernel = 5 } }',
      "  extra {}",
      "}",
      "",
    ].join("\n");
    expect(await formatChecked(text)).toBe(
      [
        "network n {",
        "  input video = clip(frames = 16, size = 112)",
        "  output video -> global_avg_pool -> dense(2)",
        "  sampling {",
        "    train { stride = 2, crop = 112 }",
        '    short_videos = "loop"',
        "  }",
        "  training {",
        '    optimizer = "sgd"',
        "    lr = 0.1",
        "    momentum = 0.9",
        "    nesterov = true",
        "    weight_decay = 1e-4",
        '    schedule = "cosine"',
        "  }",
        "  inflate base {",
        '    init = "repeat"',
        '    "conv1" { kernel = 5 }',
        "  }",
        "  extra {}",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("keeps at most one blank line where the user left blank lines, none at the edges of a body", async () => {
    const text = "\n\nwidth = 8\n\n\n\nnetwork n {\n\n  input video = clip(frames = 8, size = 32)\n  x = video\n\n\n  output x\n\n}\n\n\n";
    expect(await formatChecked(text)).toBe("width = 8\n\nnetwork n {\n  input video = clip(frames = 8, size = 32)\n  x = video\n\n  output x\n}\n");
  });

  it("prints canonical spacing, numbers and strings exactly as written", async () => {
    const text = 'a=[3,7,7]\nb=-(2**3)*1.50e-2%7\nc=if a[0]>=1 and not b then "x\\"y" else  "z"\nd=f( k = 1.0, 2 )\ne = a . len\n';
    expect(await formatChecked(text)).toBe(
      'a = [3, 7, 7]\nb = -(2 ** 3) * 1.50e-2 % 7\nc = if a[0] >= 1 and not b then "x\\"y" else "z"\nd = f(k = 1.0, 2)\ne = a.len\n',
    );
  });

  it("lays out conditionals with `then` and each `else` on their own lines when they break", async () => {
    const text = [
      "block v(kind) {",
      "  input x",
      '  output if kind == "2plus1d" then x -> conv2plus1d(64, kernel = 3, stride = 2, pad = 1) else if kind == "2d" then x -> conv3d(64, kernel = [1, 3, 3]) else x',
      "}",
      "",
    ].join("\n");
    expect(await formatChecked(text)).toBe(
      [
        "block v(kind) {",
        "  input x",
        '  output if kind == "2plus1d"',
        "    then x -> conv2plus1d(64, kernel = 3, stride = 2, pad = 1)",
        '    else if kind == "2d"',
        "    then x -> conv3d(64, kernel = [1, 3, 3])",
        "    else x",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("breaks a chain with a list head before its `->` first, then inside the list", async () => {
    const text = [
      "block m(a) {",
      "  input x",
      "  y = [x -> branch_one(a) as first, x -> branch_two(a) as second, x -> branch_three(a) as b3] -> concat",
      "  output [x -> branch_one(a) as first, x -> branch_two(a) as second, x -> branch_three(a) as the_third] -> concat",
      "}",
      "",
    ].join("\n");
    expect(await formatChecked(text)).toBe(
      [
        "block m(a) {",
        "  input x",
        "  y = [x -> branch_one(a) as first, x -> branch_two(a) as second, x -> branch_three(a) as b3]",
        "    -> concat",
        "  output [",
        "    x -> branch_one(a) as first,",
        "    x -> branch_two(a) as second,",
        "    x -> branch_three(a) as the_third",
        "  ] -> concat",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("keeps a hand-aligned stage table, aligns an unaligned one, and leaves consecutive calls with named arguments alone", async () => {
    const handAligned = [
      "network n {",
      "  input video = clip(frames = 8, size = 32)",
      "  //                                   blocks width out  stride",
      "  s2, f2 = [s1, f1] -> slowfast_stage(3,     64,   256,  1) as res2",
      "  s3, f3 = [s2, f2] -> slowfast_stage(4,     128,  512,  2, fuse = false) as res3",
      "  output s3",
      "}",
      "",
    ].join("\n");
    expect(await formatChecked(handAligned)).toBe(handAligned);
    const unaligned = handAligned.replace(/\(3, +64, +256, +1\)/, "(3, 64, 256, 1)").replace(/\(4, +128, +512, +2,/, "(4, 128, 512, 2,");
    expect(unaligned).not.toBe(handAligned);
    const aligned = await formatChecked(unaligned);
    expect(aligned).toContain("slowfast_stage(3, 64,  256, 1) as res2");
    expect(aligned).toContain("slowfast_stage(4, 128, 512, 2, fuse = false) as res3");
    // Where the hand-made spacing no longer fits the width, the columns shrink to their cells.
    expect(await formatChecked(handAligned, 80)).toBe(aligned);
    const convs = [
      "network n {",
      "  input video = clip(frames = 8, size = 32)",
      "  s = video -> conv3d(16, kernel = [1, 3, 3], pad = [0, 1, 1])",
      "  f = video -> conv3d(2, kernel = 3, pad = 1)",
      "  output [s, f] -> add",
      "}",
      "",
    ].join("\n");
    expect(await formatChecked(convs)).toBe(convs);
  });

  it("keeps statements after `// prettier-ignore` and between `// prettier-ignore-start`/`-end` as written", async () => {
    const text = [
      "network n {",
      "  input video = clip(frames = 8, size = 32)",
      "  // prettier-ignore-start",
      "  //          blocks  width",
      "  a = video -> s(3,      64)",
      "  b = a     -> s(4,      128)",
      "  // prettier-ignore-end",
      "  c = b->relu",
      "  // prettier-ignore",
      "  d = [1,  2,",
      "       3]",
      "  output  c",
      "}",
      "",
    ].join("\n");
    const expected = text.replace("c = b->relu", "c = b -> relu").replace("output  c", "output c");
    expect(await formatChecked(text)).toBe(expected);
  });
});

describe("comments", () => {
  it("keeps comments in odd places, each where a second format finds it again", async () => {
    const text = [
      "// header",
      "",
      'import { a /* first */, b } from "./x.vnet" // trailing import',
      "block blk(p, // the width",
      "  q = 1 /* default */) {",
      "  input x",
      "  y = x // after the head",
      "    -> conv3d(p, /* inline */ kernel = 3) // after a stage",
      "    // before a stage",
      "    -> relu",
      "  output y",
      "  // last in the body",
      "}",
      "network n { // after the brace",
      "  input video = clip(frames = 8, size = 32)",
      "  x = // before the value",
      "    video -> f(",
      "      1, // after an argument",
      "      2",
      "      // after the last argument",
      "    )",
      "  output x",
      "  sampling {",
      "    /* empty: */ train {}",
      "    test { clips = 1 } // trailing section",
      "  }",
      "  extra { /* nothing yet */ }",
      "  empty { // nothing here either",
      "  }",
      "}",
      "block none(/* no parameters */) {",
      "  input x",
      "  output x -> g(/* no arguments */) -> h([/* no items */])",
      "}",
      "/* footer",
      "   on two lines */",
      "",
    ].join("\n");
    expect(await formatChecked(text)).toBe(
      [
        "// header",
        "",
        'import { a /* first */, b } from "./x.vnet" // trailing import',
        "block blk(",
        "  p, // the width",
        "  q = 1 /* default */",
        ") {",
        "  input x",
        "  y = x // after the head",
        "    -> conv3d(p, /* inline */ kernel = 3) // after a stage",
        "    // before a stage",
        "    -> relu",
        "  output y",
        "  // last in the body",
        "}",
        "network n {",
        "  // after the brace",
        "  input video = clip(frames = 8, size = 32)",
        "  // before the value",
        "  x = video",
        "    -> f(",
        "      1, // after an argument",
        "      2",
        "      // after the last argument",
        "    )",
        "  output x",
        "  sampling {",
        "    /* empty: */ train {}",
        "    test { clips = 1 } // trailing section",
        "  }",
        "  extra { /* nothing yet */ }",
        "  empty {",
        "    // nothing here either",
        "  }",
        "}",
        "block none(/* no parameters */) {",
        "  input x",
        "  output x -> g(/* no arguments */) -> h([/* no items */])",
        "}",
        "/* footer",
        "   on two lines */",
        "",
      ].join("\n"),
    );
  });

  it("formats a file holding only comments", async () => {
    expect(await formatChecked("// just a note\n\n\n/* and another */\n")).toBe("// just a note\n\n/* and another */\n");
    expect(await formatChecked("")).toBe("");
  });

  it("survives a comment between any two tokens (idempotent, same AST, comments kept)", async () => {
    const text = [
      'import { a } from "./x.vnet"',
      "k = -(2 ** 3) % 7",
      "block blk(p, q = [1, 2]) {",
      "  input x",
      '  z = [x, x] -> concat(axis = "time") -> conv3d(p, kernel = 3, stride = q[0]) as c1 -> relu',
      "  w = if p > 1 and not (p == 2) then z.channels else len(q)",
      "  output z, w",
      "}",
      "network n {",
      "  classes = 10",
      "  input video = clip(frames = 16, size = [112, 112])",
      "  stream rgb = video -> normalize(mean = [0.5], std = [0.25])",
      "  s, t = [rgb, rgb] -> blk(2) as pair",
      "  y = s -> per_frame { conv2d(8, kernel = 3) -> relu } -> for i in 0..2 { blk(i) } as loop",
      '  inflate base { init = "repeat" "conv1" { kernel = 5 } }',
      "  output y -> global_avg_pool -> dense(classes) as fc",
      "  sampling { train { stride = 2 } test { clips = 10 } }",
      "}",
      "",
    ].join("\n");
    const { tokens } = parseSpec(text);
    const gaps = [0, ...tokens.map((t) => t.endOffset! + 1)];
    // Inline, ending a line, and on lines of its own (a block comment: same placement as `//`).
    const variants = [" /* c */ ", " // c\n", "\n/* c\n   d */\n"];
    for (const at of gaps) {
      for (const variant of variants) {
        const commented = text.slice(0, at) + variant + text.slice(at);
        const formatted = await format(commented);
        const where = `comment ${JSON.stringify(variant)} at offset ${at}`;
        expect(await format(formatted), where).toBe(formatted);
        expect(commentTexts(formatted), where).toEqual(commentTexts(commented));
        expect(comparableAst(formatted), where).toEqual(comparableAst(text));
      }
    }
  }, 120_000);
});
