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
];

const shared = { testTimeout: 60_000, pool: "forks" as const };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "fast", include: ["test/**/*.test.ts"], exclude: END_TO_END } },
      { test: { ...shared, name: "e2e", include: END_TO_END } },
    ],
  },
});
