/**
 * `vnet fmt [--check] <files|dirs...>`: formats specs in place through prettier and the vnet
 * plugin, exactly as `prettier --plugin vnet/prettier --write` would. Exit codes: 0 done (or
 * already formatted), 1 a spec does not parse (it is left untouched) or, with `--check`, would
 * change; 2 usage errors.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatDiagnostic } from "../diagnostics/codeframe.js";
import { formatSpec } from "../prettier/format.js";
import { VnetSyntaxError } from "../prettier/parse.js";

const USAGE = "usage: vnet fmt [--check] <files|dirs...>";

/**
 * Replaces `file` with `text` in one step: the text goes to a temporary file beside it, which is
 * then renamed over it, so an interrupted run never leaves a half-written spec.
 */
function writeAtomically(file: string, text: string): void {
  // Through a symbolic link, the file it points to is replaced, not the link.
  const target = fs.realpathSync(file);
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(temporary, text);
    fs.chmodSync(temporary, fs.statSync(target).mode);
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

function shown(file: string): string {
  return path.relative(process.cwd(), file) || file;
}

/**
 * Runs `vnet fmt`. `expand` turns the file and directory arguments into .vnet files (throwing the
 * CLI's usage error for a missing path); `out` gets the changed files, `err` errors and the
 * `--check` verdict.
 */
export async function formatCommand(
  args: readonly string[],
  out: (s: string) => void,
  err: (s: string) => void,
  expand: (files: string[]) => string[],
): Promise<number> {
  const positional: string[] = [];
  let check = false;
  for (const arg of args) {
    if (arg === "--check") check = true;
    else if (arg.startsWith("-")) {
      err(`vnet fmt: unknown option ${arg}\n${USAGE}`);
      return 2;
    } else positional.push(arg);
  }
  if (positional.length === 0) {
    err(`vnet fmt: needs at least one file or directory\n${USAGE}`);
    return 2;
  }
  const files = expand(positional);

  let unparsable = 0;
  const changed: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (error) {
      err(`${shown(file)}: cannot read: ${(error as Error).message}`);
      unparsable++;
      continue;
    }
    let formatted: string;
    try {
      formatted = await formatSpec(text, { filepath: path.resolve(file), resolveConfig: true });
    } catch (error) {
      if (!(error instanceof VnetSyntaxError)) throw error;
      unparsable++;
      const color = process.stderr.isTTY === true;
      // The first error says why the file was skipped; recovery's follow-on errors add noise.
      const [first, ...others] = error.diagnostics;
      const more = others.length ? `\n  (${others.length} more error(s): run \`vnet check ${shown(file)}\`)` : "";
      err(`${formatDiagnostic({ ...first!, file: shown(file) }, text, { color })}${more}`);
      continue;
    }
    if (formatted === text) continue;
    changed.push(file);
    if (check) out(shown(file));
    else {
      writeAtomically(file, formatted);
      out(`formatted ${shown(file)}`);
    }
  }

  const failed = unparsable ? `; ${unparsable} file(s) not formatted because of errors` : "";
  if (check) {
    err(
      changed.length
        ? `${changed.length} of ${files.length} file(s) would be reformatted by \`vnet fmt\`${failed}`
        : `${files.length - unparsable} file(s) already formatted${failed}`,
    );
    return changed.length || unparsable ? 1 : 0;
  }
  if (unparsable) err(`vnet fmt: ${unparsable} file(s) left untouched because of errors`);
  return unparsable ? 1 : 0;
}
