/**
 * Finding the weights a user names: a run directory (its checkpoint/, or checkpoint.old/ after a
 * crash between the swaps), a checkpoint directory, or any directory holding a tfjs model.json. A
 * location that is missing, a file, or holds no checkpoint is a CheckpointError naming it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { VnetError } from "../diagnostics/error.js";
import { checkpointDir } from "../runtime/checkpoint.js";
import { WeightStore } from "./store.js";
import { CheckpointError } from "./tensors.js";

/** The checkpoint directory at `location`, or a CheckpointError saying which directory is missing or holds no checkpoint. */
export function checkpointLocation(location: string): string {
  if (!fs.existsSync(location)) throw new CheckpointError(`${location} does not exist`);
  if (!fs.statSync(location).isDirectory())
    throw new CheckpointError(`${location} is a file; give a run directory or a checkpoint directory (one holding model.json)`);
  const none = () => new CheckpointError(`${location} holds no checkpoint: no model.json in it, and no checkpoint/ directory of a run`);
  let directory: string;
  try {
    // The run's newest complete checkpoint (after a crash, checkpoint.old or a finished temporary); a damaged one is VN100.
    directory = checkpointDir(location);
  } catch (error) {
    if (error instanceof VnetError && error.code === "VN115") throw none();
    throw error;
  }
  if (!fs.existsSync(path.join(directory, "model.json"))) throw none();
  return directory;
}

/** The weight store of the checkpoint at `location` (see `checkpointLocation`). */
export async function readWeights(location: string): Promise<WeightStore> {
  return WeightStore.readDirectory(checkpointLocation(location));
}
