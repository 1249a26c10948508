/**
 * `vnet fmt [--check] <files|dirs...>`: formats specs in place through prettier and the vnet
 * plugin, exactly as `prettier --plugin vnet/prettier --write` would. Exit codes: 0 done (or
 * already formatted), 1 a spec does not parse or cannot be written (it is left untouched) or,
 * with `--check`, would change; 2 usage errors. A test case whose `// expect:` header names the
 * syntax errors it has (specs/invalid) is skipped with a note, so `vnet fmt --check specs` passes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatDiagnostic } from "../../diagnostics/codeframe.js";
import { formatVnetError, VnetError } from "../../diagnostics/error.js";
import { formatSpec } from "../../prettier/format.js";
import { VnetSyntaxError } from "../../prettier/parse.js";
import { writeFileAtomic } from "../../runtime/files.js";
import { defineCommand } from "../command.js";
import { declaredExpectation, expandSpecPaths, shownPath } from "../util.js";

export const command = defineCommand({
  name: "fmt",
  usage: "fmt [--check] <files|dirs...>",
  description:
    "Formats specs in place (atomically; a spec that does not parse, or is read-only, is left untouched). --check lists the files that would change and exits 1 if any would.",
  positional: { names: "<files|dirs...>", min: 1 },
  flags: {
    check: { type: "switch", doc: "write nothing; list unformatted files and exit 1 if there are any" },
  },
  async run({ positional, flags }, { out, err }) {
    const files = expandSpecPaths(positional);
    let failed = 0;
    let skipped = 0;
    const changed: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch (error) {
        err(`${shownPath(file)}  error VN111  cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        failed++;
        continue;
      }
      let formatted: string;
      try {
        formatted = await formatSpec(text, { filepath: path.resolve(file), resolveConfig: true });
      } catch (error) {
        if (!(error instanceof VnetSyntaxError)) throw error;
        // A test case that declares its syntax errors (`// expect: VN002`) is meant not to parse.
        const expected = declaredExpectation(text);
        if (expected && error.diagnostics.every((d) => d.severity !== "error" || expected.includes(d.code))) {
          skipped++;
          err(`${shownPath(file)}: skipped, it does not parse as its \`// expect: ${expected.join(", ")}\` header says`);
          continue;
        }
        failed++;
        // The first error says why the file was skipped; recovery's follow-on errors add noise.
        const [first, ...others] = error.diagnostics;
        const more = others.length ? `\n  (${others.length} more error(s): run \`vnet check ${shownPath(file)}\`)` : "";
        err(`${formatDiagnostic({ ...first!, file }, text, { color: process.stderr.isTTY === true, showPath: shownPath })}${more}`);
        continue;
      }
      if (formatted === text) continue;
      changed.push(file);
      if (flags.check) {
        out(shownPath(file));
        continue;
      }
      try {
        writeFileAtomic(file, formatted);
      } catch (error) {
        if (!(error instanceof VnetError)) throw error;
        failed++;
        err(formatVnetError(new VnetError(error.code, error.message, { path: shownPath(file), ...(error.hint ? { hint: error.hint } : {}) })));
        continue;
      }
      out(`formatted ${shownPath(file)}`);
    }
    const notFormatted =
      (failed ? `; ${failed} file(s) not formatted because of errors` : "") +
      (skipped ? `; ${skipped} expected-diagnostic case(s) that do not parse skipped` : "");
    if (flags.check) {
      err(
        changed.length
          ? `${changed.length} of ${files.length} file(s) would be reformatted by \`vnet fmt\`${notFormatted}`
          : `${files.length - failed - skipped} file(s) already formatted${notFormatted}`,
      );
      return changed.length || failed ? 1 : 0;
    }
    if (failed) err(`vnet fmt: ${failed} file(s) left untouched because of errors`);
    return failed ? 1 : 0;
  },
});
