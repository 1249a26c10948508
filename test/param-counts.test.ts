import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkFiles } from "../src/semantics/check.js";
import { totals } from "../src/semantics/network.js";

const specs = path.resolve(__dirname, "../specs");

/** Trainable parameters of the reference implementations (see each spec's header). */
const REFERENCE_COUNTS: Record<string, number> = {
  "r3d_18.vnet": 33_371_472,
};

describe("parameter counts match the reference implementations", () => {
  for (const [file, expected] of Object.entries(REFERENCE_COUNTS)) {
    it(file, () => {
      const result = checkFiles([path.join(specs, file)]);
      expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(result.networks).toHaveLength(1);
      expect(totals(result.networks[0]!).trainable).toBe(expected);
    });
  }
});
