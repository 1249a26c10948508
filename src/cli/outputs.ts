/**
 * Output paths checked before any work: a command that would overwrite one of its own inputs (the
 * spec, the weights it reads, the dataset) or a training run's checkpoint is refused (VN110), and
 * so is an output that cannot be written at all (VN111: a directory where a file goes, a file in
 * the way of a directory, no permission, a read-only file), so that nothing is computed for an
 * hour and then lost, and nothing the user had is replaced. Paths are compared after resolving
 * symbolic links.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { VnetError } from "../diagnostics/error.js";
import { MANIFEST } from "../data/features.js";
import { MODEL_FILES, holdsTrainingState } from "../runtime/checkpoint.js";
import { isRunDirectory } from "../runtime/run.js";
import { isReadOnly, probeCreatable } from "../runtime/files.js";

/** An input of the command, described for the message ("the spec", "the weights in run/checkpoint"). */
export interface CommandInput {
  readonly path: string;
  readonly what: string;
}

/** The real path of `p`, resolving the part that exists (the rest may not exist yet). */
export function realPath(p: string): string {
  const absolute = path.resolve(p);
  let head = absolute;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...tail);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return absolute;
      tail.unshift(path.basename(head));
      head = parent;
    }
  }
}

function inside(dir: string, p: string): boolean {
  const relative = path.relative(dir, p);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

function refuse(flag: string, output: string, message: string, hint?: string): never {
  throw new VnetError("VN110", `${flag} ${output} ${message}; nothing was written`, { path: output, exitCode: 2, ...(hint ? { hint } : {}) });
}

function unwritable(flag: string, output: string, reason: string): never {
  throw new VnetError("VN111", `cannot write ${flag} ${output}: ${reason}`, { path: output, exitCode: 2 });
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function checkAgainstInputs(flag: string, output: string, real: string, inputs: readonly CommandInput[]): void {
  for (const input of inputs) {
    const source = realPath(input.path);
    if (real === source) refuse(flag, output, `is ${input.what}`, "choose another output path");
    if (isDirectory(source) && inside(source, real)) refuse(flag, output, `lies inside ${input.what} (${input.path})`, "write the output outside it");
  }
}

/**
 * Refuses an output file that is an input, lies inside one, is a directory, is read-only, or
 * cannot be created (its directory is created, as the command would, and must take a file).
 */
export function checkOutputFile(flag: string, file: string, inputs: readonly CommandInput[] = []): void {
  const real = realPath(file);
  checkAgainstInputs(flag, file, real, inputs);
  if (isDirectory(real)) unwritable(flag, file, "it is a directory; this output is one file");
  if (isReadOnly(real)) unwritable(flag, file, "the file is read-only");
  probeCreatable(path.dirname(real));
}

/**
 * Refuses an output directory for a model (model.json + weights.bin) that is a file, is or holds
 * an input, holds a training run or checkpoint (whose trained weights it would replace), or cannot
 * be written. A directory a model was written to before may be written again.
 */
export function checkModelDirectory(flag: string, dir: string, inputs: readonly CommandInput[] = []): void {
  const real = realPath(dir);
  checkAgainstInputs(flag, dir, real, inputs);
  if (fs.existsSync(real) && !isDirectory(real)) unwritable(flag, dir, "it is a file; this output is a directory");
  if (holdsTrainingState(real))
    refuse(flag, dir, "holds a training run or checkpoint, whose trained weights this would replace", "write the model to a new directory");
  for (const name of MODEL_FILES) {
    const file = path.join(real, name);
    checkAgainstInputs(flag, dir, file, inputs);
    if (isDirectory(file) || isReadOnly(file)) unwritable(flag, dir, `${name} there is ${isDirectory(file) ? "a directory" : "read-only"}`);
  }
  probeCreatable(real);
}

/**
 * Refuses a run directory (`vnet train -o`) that is a file, is or lies inside an input (a
 * class-folder dataset would gain a "class"), or already holds a run when not resuming it (VN113).
 */
export function checkRunDirectory(dir: string, inputs: readonly CommandInput[], resume: boolean): void {
  const real = realPath(dir);
  checkAgainstInputs("-o", dir, real, inputs);
  if (fs.existsSync(real) && !isDirectory(real)) unwritable("-o", dir, "it is a file; a run is a directory");
  if (!resume && isRunDirectory(real)) {
    throw new VnetError("VN113", `-o ${dir} already holds a run (metrics.jsonl, checkpoint/); training anew would replace it`, {
      path: dir,
      exitCode: 2,
      hint: `continue it with --resume, or train into another directory`,
    });
  }
}

/**
 * Refuses a features folder (`vnet features -o`) that is a file, is or lies inside an input (the
 * dataset folder, the video, the weights), or holds files of its own: only a new or empty folder,
 * or one that features were written to before (its features.json), is written into, since a
 * video's `<id>.npy` or the manifest would replace a file of the same name there.
 */
export function checkFeaturesDirectory(dir: string, inputs: readonly CommandInput[]): void {
  const real = realPath(dir);
  checkAgainstInputs("-o", dir, real, inputs);
  if (fs.existsSync(real) && !isDirectory(real)) unwritable("-o", dir, "it is a file; the features are a folder");
  if (isDirectory(real) && !fs.existsSync(path.join(real, MANIFEST))) {
    const held = fs.readdirSync(real).filter((name) => !name.startsWith("."));
    if (held.length)
      refuse(
        "-o",
        dir,
        `holds other files (${held.slice(0, 3).join(", ")}${held.length > 3 ? ", ..." : ""}) and no ${MANIFEST}: the features written there could replace them`,
        "write the features to a new or empty folder",
      );
  }
  probeCreatable(real);
}

/** The inputs a dataset argument names: a folder (its class folders) or a list file; none for a builtin one. */
export function datasetInputs(data: string): CommandInput[] {
  if (data.startsWith("builtin:")) return [];
  return [{ path: data, what: isDirectory(data) ? "the dataset folder" : "the dataset list" }];
}

/** A checked program's files as inputs ("the spec", "an import of the spec"). */
export function specInputs(modules: Iterable<string>, entry: string): CommandInput[] {
  return [...modules].map((file) => ({
    path: file,
    what: path.resolve(file) === path.resolve(entry) ? "the spec" : `${path.basename(file)}, which the spec imports`,
  }));
}
