import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The end-to-end suites: training loops, real videos through ffmpeg, every spec in ONNX Runtime,
 * the wasm backend. `npm test` runs them with the rest; `npm run test:fast` (the `fast` project)
 * leaves them out for a quick loop. A new suite that trains, decodes videos or runs whole models
 * belongs here.
 */
export const END_TO_END = [
  "test/lecture.test.ts",
  "test/train.test.ts",
  "test/video-train.test.ts",
  "test/video-data.test.ts",
  "test/two-stream.test.ts",
  "test/inflate-weights.test.ts",
  "test/onnx-cli.test.ts",
  "test/onnx-import.test.ts",
  "test/onnx-specs.test.ts",
  "test/wasm.test.ts",
  "test/cli/data-safety.test.ts",
  "test/cli/unreadable-input.test.ts",
  "test/runtime/predict.test.ts",
  "test/backends/onnx/training.test.ts",
  "test/backends/onnx/every-spec.test.ts",
  "test/runtime/engines.test.ts",
  "test/vis/gradcam.test.ts",
  "test/vis/plot.test.ts",
  "test/vis/report.test.ts",
  "test/localization-e2e.test.ts",
  "test/detection-e2e.test.ts",
  "test/detection-baseline.test.ts",
];

// A suite moved or renamed must be moved here too, or it would silently join the quick loop.
for (const file of END_TO_END) {
  if (!fs.existsSync(path.join(path.dirname(fileURLToPath(import.meta.url)), file)))
    throw new Error(`vitest.config.ts: END_TO_END names ${file}, which does not exist`);
}

const shared = { testTimeout: 60_000, pool: "forks" as const };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "fast", include: ["test/**/*.test.ts"], exclude: END_TO_END } },
      { test: { ...shared, name: "e2e", include: END_TO_END } },
    ],
  },
});
