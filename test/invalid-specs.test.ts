/**
 * Golden tests for specs/invalid: each file's first line declares the exact codes it must
 * produce (`// expect: VN020, VN041`, in source order); the full diagnostics (ranges, messages,
 * hints) are pinned in specs/invalid/__golden__/ and updated with `vitest -u`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { declaredExpectation } from "../src/cli/util.js";
import { LineIndex } from "../src/diagnostics/location.js";
import { checkFiles } from "../src/semantics/check.js";

const dir = path.resolve(__dirname, "../specs/invalid");
const files = fs.existsSync(dir)
  ? fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".vnet"))
      .sort()
  : [];

describe("specs/invalid produce exactly their declared diagnostics", () => {
  it("has cases", () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const file of files) {
    it(file, async () => {
      const full = path.join(dir, file);
      const text = fs.readFileSync(full, "utf8");
      const expected = declaredExpectation(text);
      expect(expected, `${file} must start with // expect: CODES`).toBeDefined();
      const result = checkFiles([full]);
      const codes = result.diagnostics.map((d) => d.code);
      expect(codes).toEqual(expected);
      const lines = result.diagnostics.map((d) => {
        const source = result.program.modules.get(d.file)?.text ?? "";
        const index = new LineIndex(source);
        const a = index.positionAt(d.range.start);
        const b = index.positionAt(d.range.end);
        const where = path.relative(dir, d.file);
        return `${where}:${a.line}:${a.column}-${b.line}:${b.column} ${d.severity} ${d.code} ${d.message}${d.hint ? `\n    hint: ${d.hint}` : ""}`;
      });
      await expect(`${lines.join("\n")}\n`).toMatchFileSnapshot(path.join(dir, "__golden__", file.replace(/\.vnet$/, ".txt")));
    });
  }
});
