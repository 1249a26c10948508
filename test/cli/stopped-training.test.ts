/** The one answer every task's `vnet train` gives when training stops early (run-util.ts stoppedTraining). */
import { describe, expect, it } from "vitest";
import type * as tf from "@tensorflow/tfjs";
import { resumeCommand, stoppedTraining } from "../../src/cli/run-util.js";
import type { TrainResult } from "../../src/runtime/train.js";

const result = (extra: Partial<TrainResult>): TrainResult => ({ model: {} as tf.LayersModel, engine: "tfjs", history: [], issues: [], ...extra });
const run = { spec: "specs/tiny/tiny_bmn.vnet", data: "dist/features dir", runDir: "runs/bmn", network: undefined };

describe("stoppedTraining", () => {
  it("an interrupted run says what is kept and prints the exact --resume command; 130 for SIGINT, 143 for SIGTERM", () => {
    for (const [reason, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      const controller = new AbortController();
      controller.abort(reason);
      const err: string[] = [];
      const trained = result({ interrupted: true, stopped: "interrupted in epoch 2 after step 3 of 8", checkpoint: { dir: "runs/bmn/checkpoint", epoch: 1 } });
      expect(stoppedTraining(trained, controller.signal, (s) => err.push(s), run)).toBe(code);
      expect(err).toEqual([
        "vnet: interrupted in epoch 2 after step 3 of 8",
        "continue with: vnet train specs/tiny/tiny_bmn.vnet --data 'dist/features dir' -o runs/bmn --resume",
      ]);
    }
  });

  it("no --resume command when no checkpoint exists yet; 1 for another early stop; undefined for a finished run", () => {
    const controller = new AbortController();
    controller.abort("SIGINT");
    const err: string[] = [];
    expect(stoppedTraining(result({ interrupted: true, stopped: "interrupted in epoch 1" }), controller.signal, (s) => err.push(s), run)).toBe(130);
    expect(err).toEqual(["vnet: interrupted in epoch 1"]);
    expect(stoppedTraining(result({ stopped: "loss became NaN" }), new AbortController().signal, () => {}, run)).toBe(1);
    expect(stoppedTraining(result({}), new AbortController().signal, () => {}, run)).toBeUndefined();
  });

  it("quotes what a shell would split and names the network", () => {
    expect(resumeCommand("my spec.vnet", "builtin:motion", "run", "slow")).toBe(
      "vnet train 'my spec.vnet' --data builtin:motion -o run --network slow --resume",
    );
  });
});
