/**
 * The scope provider (src/semantics/scope.ts): what a name means at a place, the one answer the
 * checker and the language server both use.
 */
import { describe, expect, it } from "vitest";
import { ModuleScope, type ScopeContext } from "../../src/semantics/scope.js";
import type * as A from "../../src/syntax/ast.js";
import { parseSpec } from "../../src/syntax/parse.js";
import { forEachExprInLoops } from "../../src/syntax/walk.js";
import { checkText, codes } from "../helpers.js";

const FILE = "/virtual/project/main.vnet";

/** Every value name of `text`'s containers, resolved where it stands: `name@offset => kind:definition-offset`. */
function resolutions(text: string): string[] {
  const { ast } = parseSpec(text, FILE);
  const scope = new ModuleScope(FILE, ast, () => undefined);
  const out: string[] = [];
  const visit = (e: A.Expr, container: A.BlockDecl | A.NetworkDecl | undefined) =>
    forEachExprInLoops(e, (node, loops) => {
      if (node.kind !== "Name") return;
      const context: ScopeContext = container ? { container, loops } : { loops };
      const r = scope.resolve(node.name, node.range.start, context);
      const target = !r
        ? "none"
        : r.kind === "import"
          ? `import:${r.imported.ident.range.start}`
          : `${r.kind}:${r.definition.kind}@${r.definition.nameRange.start}`;
      out.push(`${node.name}@${node.range.start} => ${target}`);
    });
  for (const item of ast.items) {
    if (item.kind === "Binding") visit(item.value, undefined);
    if (item.kind === "Block") for (const p of item.params) if (p.defaultValue) visit(p.defaultValue, item);
    if (item.kind === "Block" || item.kind === "Network") {
      for (const s of item.body) {
        if (s.kind === "Binding" || s.kind === "Stream") visit(s.value, item);
        if (s.kind === "Output") s.values.forEach((v) => visit(v, item));
      }
    }
  }
  return out.sort((a, b) => Number(a.split("@")[1]!.split(" ")[0]) - Number(b.split("@")[1]!.split(" ")[0]));
}

describe("scope provider", () => {
  it("statements run top to bottom: a local is visible after its declaration, not in it", () => {
    //          0         1         2         3         4
    //          0123456789012345678901234567890123456789012345
    const text = "block b() {\n  input x\n  y = z\n  z = x\n  w = w\n  output y\n}\n";
    expect(resolutions(text)).toEqual([
      `z@${text.indexOf("y = z") + 4} => later:binding@${text.indexOf("z = x")}`,
      `x@${text.indexOf("z = x") + 4} => local:input@${text.indexOf("x\n")}`,
      `w@${text.indexOf("w = w") + 4} => none`,
      `y@${text.indexOf("output y") + 7} => local:binding@${text.indexOf("y = z")}`,
    ]);
  });

  it("parameters are bound in order: a default sees the parameters before it", () => {
    const text = "block b(a, c = a, d = e, e = 1) {\n  input x\n  output x\n}\n";
    const r = resolutions(text);
    expect(r[0]).toBe(`a@${text.indexOf("= a") + 2} => local:param@8`);
    expect(r[1]).toMatch(/^e@\d+ => later:param@/);
  });

  it("a loop variable is visible in its body, innermost first, not in its bounds or after the loop", () => {
    const text = "block b() {\n  input x\n  y = x -> for i in 0..3 { for i in 0..i { conv3d(i, kernel = 1) } }\n  output y -> conv3d(i, kernel = 1)\n}\n";
    const r = resolutions(text);
    const inner = text.indexOf("for i in 0..i");
    expect(r).toContain(`i@${inner + 12} => local:loop@${text.indexOf("for i in 0..3") + 4}`);
    expect(r).toContain(`i@${text.indexOf("conv3d(i") + 7} => local:loop@${inner + 4}`);
    expect(r).toContain(`i@${text.lastIndexOf("conv3d(i") + 7} => none`);
  });

  it("locals shadow top-level names once declared; the first declaration wins", () => {
    const text = "k = 1\nnetwork n {\n  a = k\n  k = 2\n  k = 3\n  b = k\n  input video = clip(frames = 8, size = 32)\n  output video\n}\n";
    const r = resolutions(text);
    expect(r).toContain(`k@${text.indexOf("a = k") + 4} => top:const@0`);
    expect(r).toContain(`k@${text.indexOf("b = k") + 4} => local:binding@${text.indexOf("k = 2")}`);
  });

  it("top-level constants see only top-level names, in any order", () => {
    const text = "a = b + 1\nb = 2\nnetwork n {\n  c = 5\n  input video = clip(frames = 8, size = 32)\n  output video\n}\nd = c\n";
    const r = resolutions(text);
    expect(r).toContain(`b@4 => top:const@10`);
    expect(r).toContain(`c@${text.lastIndexOf("c")} => none`);
  });

  it("the checker follows the same answers: forward references and stale loop variables are VN010", () => {
    const network = (body: string) => `network n {\n  input video = clip(frames = 8, size = 32)\n${body}\n}\n`;
    expect(codes(checkText(network("  y = z\n  z = video\n  output y -> global_avg_pool -> dense(2)")))).toEqual(["VN010"]);
    expect(codes(checkText(network("  y = video -> for i in 0..2 { relu }\n  output y -> global_avg_pool -> dense(i + 1)")))).toEqual(["VN010"]);
  });
});
