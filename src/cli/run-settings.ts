/**
 * A training run's settings, recorded in every checkpoint and read back by `--resume`: the run
 * continues with its own seed, optimizer, learning rate, batch, data and schedule whatever the
 * defaults or the spec's `training` section say now, and a flag that contradicts them is an
 * error (VN117) instead of silently changing the run halfway. `--epochs` may only extend it; the
 * backend and loader flags are free.
 */
import * as path from "node:path";
import { VnetError } from "../diagnostics/error.js";
import type { TrainingConfig } from "../runtime/train.js";

/** What a run records (all of it JSON). */
export interface RunSettings {
  readonly seed: number;
  /** `builtin:motion`, or the dataset's absolute path. */
  readonly data: string;
  readonly network: string;
  readonly trainClips?: number;
  readonly valClips?: number;
  readonly valFraction?: number;
  readonly config: TrainingConfig;
}

/** The train flags a run's settings fix, by flag key, and how to read the recorded value. */
const FIXED: readonly { readonly flag: string; readonly read: (s: Partial<RunSettings>) => unknown }[] = [
  { flag: "seed", read: (s) => s.seed },
  { flag: "data", read: (s) => s.data },
  { flag: "network", read: (s) => s.network },
  { flag: "trainClips", read: (s) => s.trainClips },
  { flag: "valClips", read: (s) => s.valClips },
  { flag: "valFraction", read: (s) => s.valFraction },
  { flag: "batch", read: (s) => s.config?.batch },
  { flag: "lr", read: (s) => s.config?.lr },
  { flag: "optimizer", read: (s) => s.config?.optimizer },
  { flag: "schedule", read: (s) => s.config?.schedule },
  { flag: "warmup", read: (s) => s.config?.warmup },
  { flag: "weightDecay", read: (s) => s.config?.weightDecay },
];

const flagText = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** `--data` as a run records it: builtin names as they are, paths absolute. */
export function recordedData(data: string): string {
  return data.startsWith("builtin:") ? data : path.resolve(data);
}

/**
 * The settings a resumed run continues with: the recorded ones, `--epochs` extending them. Throws
 * VN117 for each given flag that contradicts them, and when the run has nothing left to train.
 * A checkpoint of an earlier vnet records only some settings; the others come from `current`.
 */
export function resumeSettings(
  recorded: Partial<RunSettings>,
  current: RunSettings,
  given: ReadonlySet<string>,
  flags: Readonly<Record<string, unknown>>,
  done: number,
  runDir: string,
): RunSettings {
  const conflicts: string[] = [];
  for (const { flag, read } of FIXED) {
    if (!given.has(flag)) continue;
    const was = read(recorded);
    const now = flag === "data" ? recordedData(String(flags[flag])) : flag === "network" ? current.network : flags[flag];
    if (was !== undefined && was !== now) conflicts.push(`${flagText(flag)} ${String(flags[flag])} (the run has ${was})`);
  }
  if (conflicts.length) {
    throw new VnetError("VN117", `--resume continues ${runDir} with the settings it was started with; ${conflicts.join(", ")}`, {
      path: runDir,
      exitCode: 2,
      hint: "leave these flags out to continue the run as it was, or start a new run in another directory",
    });
  }
  const config: TrainingConfig = { ...current.config, ...(recorded.config ?? {}), ...(given.has("epochs") ? { epochs: Number(flags.epochs) } : {}) };
  if (config.epochs <= done) {
    throw new VnetError("VN117", `${runDir} has trained ${done} of its ${config.epochs} epochs; there is nothing left to resume`, {
      path: runDir,
      exitCode: 2,
      hint: `give --epochs N with N above ${done} to train it further`,
    });
  }
  const settings: RunSettings = { ...current, ...recorded, config } as RunSettings;
  return settings;
}
