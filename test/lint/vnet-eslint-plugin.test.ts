import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain-JavaScript ESLint plugin without type declarations
import vnet from "../../scripts/lint/vnet-eslint-plugin.js";

/** Lints a throw-away project made of `files` with vnet's three rules; returns `file: message` lines. */
async function lint(files: Record<string, string>): Promise<string[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-lint-"));
  fs.writeFileSync(path.join(root, "package.json"), "{}");
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ["**/*.ts"],
        languageOptions: { parser: tseslint.parser },
        plugins: { vnet },
        rules: { "vnet/stage-order": "error", "vnet/no-import-cycle": "error", "vnet/restricted-packages": "error" },
      },
    ],
  });
  const results = await eslint.lintFiles(["**/*.ts"]);
  return results.flatMap((r) => r.messages.map((m) => `${path.relative(root, r.filePath)}: ${m.message}`)).sort();
}

describe("vnet's lint rules", () => {
  it("stage-order: an earlier stage importing a later one is an error, type-only imports and dynamic ones included", async () => {
    const messages = await lint({
      "src/ir/graph.ts": `import { emit } from "../backends/tfjs/emit.js";\nimport type { Tool } from "../cli/tool.js";\nexport const g = async () => [emit, await import("../runtime/train.js")];\nexport type T = Tool;\n`,
      "src/backends/tfjs/emit.ts": `import { g } from "../../ir/graph.js";\nexport const emit = g;\n`,
      "src/cli/tool.ts": `export type Tool = number;\n`,
      "src/runtime/train.ts": `import "../data/loader.js";\nexport {};\n`,
      "src/data/loader.ts": `export {};\n`,
    });
    expect(messages.filter((m) => m.includes("later stage"))).toEqual([
      expect.stringMatching(/^src\/ir\/graph\.ts: ir imports src\/backends\/tfjs\/emit\.ts of the later stage backends/),
      expect.stringMatching(/^src\/ir\/graph\.ts: ir imports src\/cli\/tool\.ts of the later stage cli/),
      expect.stringMatching(/^src\/ir\/graph\.ts: ir imports src\/runtime\/train\.ts of the later stage runtime/),
    ]);
  });

  it("no-import-cycle: reports each import that closes a cycle of value imports, with the cycle; type-only and dynamic imports do not count", async () => {
    const messages = await lint({
      "src/semantics/a.ts": `import { b } from "./b.js";\nexport const a = () => b;\n`,
      "src/semantics/b.ts": `import { c } from "./c.js";\nexport const b = () => c;\n`,
      "src/semantics/c.ts": `import { a } from "./a.js";\nexport const c = () => a;\n`,
      "src/semantics/d.ts": `import type { E } from "./e.js";\nexport type D = E;\nexport const d = () => import("./e.js");\n`,
      "src/semantics/e.ts": `import { d } from "./d.js";\nexport type E = number;\nexport const e = d;\n`,
    });
    expect(messages).toEqual([
      "src/semantics/a.ts: import cycle: src/semantics/a.ts -> src/semantics/b.ts -> src/semantics/c.ts -> src/semantics/a.ts",
      "src/semantics/b.ts: import cycle: src/semantics/b.ts -> src/semantics/c.ts -> src/semantics/a.ts -> src/semantics/b.ts",
      "src/semantics/c.ts: import cycle: src/semantics/c.ts -> src/semantics/a.ts -> src/semantics/b.ts -> src/semantics/c.ts",
    ]);
  });

  it("restricted-packages: tfjs and the protobuf library stay in their stages (types may be named anywhere)", async () => {
    const messages = await lint({
      "src/cli/predict.ts": `import * as tf from "@tensorflow/tfjs";\nimport type { LayersModel } from "@tensorflow/tfjs";\nexport const p = (m: LayersModel) => [tf, m];\n`,
      "src/runtime/train.ts": `import * as tf from "@tensorflow/tfjs";\nexport const t = tf;\n`,
      "src/weights/read.ts": `import proto from "onnx-proto";\nexport const r = proto;\n`,
      "src/backends/onnx/builder.ts": `import proto from "onnx-proto";\nexport const b = proto;\n`,
    });
    expect(messages).toEqual([
      expect.stringMatching(/^src\/cli\/predict\.ts: src\/cli\/predict\.ts imports @tensorflow\/tfjs; tfjs is imported only under/),
      expect.stringMatching(
        /^src\/weights\/read\.ts: src\/weights\/read\.ts imports onnx-proto; the protobuf library is imported only under src\/backends\/onnx/,
      ),
    ]);
  });
});
