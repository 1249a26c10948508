/**
 * Formatting a spec's text through prettier with the vnet plugin: the one entry point shared by
 * `vnet fmt` and the tests, so both produce exactly what `prettier --plugin` would.
 */
import * as prettier from "prettier";
import { VnetSyntaxError } from "./parse.js";
import plugin from "./plugin.js";

export interface FormatOptions {
  /** Where the text comes from: labels errors and selects `.prettierrc` overrides. */
  readonly filepath?: string;
  /**
   * Apply the prettier configuration (`.prettierrc`, `prettier` in package.json) that holds for
   * `filepath`, as the prettier CLI and the language server do.
   */
  readonly resolveConfig?: boolean;
  readonly printWidth?: number;
}

/**
 * Formats one spec. Throws `VnetSyntaxError` (with `diagnostics` and `loc`) when the text has
 * parse errors, so callers never write out a broken spec.
 */
export async function formatSpec(text: string, options: FormatOptions = {}): Promise<string> {
  const config = options.resolveConfig && options.filepath ? ((await prettier.resolveConfig(options.filepath)) ?? {}) : {};
  try {
    return await prettier.format(text, {
      ...config,
      ...(options.printWidth !== undefined ? { printWidth: options.printWidth } : {}),
      ...(options.filepath !== undefined ? { filepath: options.filepath } : {}),
      parser: "vnet",
      plugins: [plugin],
    });
  } catch (error) {
    // The parser refuses nesting past MAX_FORMAT_DEPTH; should printing still run out of stack, the
    // spec is refused like one that does not parse, never reported as an internal error.
    if (!(error instanceof RangeError)) throw error;
    throw new VnetSyntaxError(
      [
        {
          code: "VN004",
          severity: "error",
          message: "the spec nests too deeply to format",
          file: options.filepath ?? "<input>",
          range: { start: 0, end: 0 },
          hint: "split long expressions into named bindings",
        },
      ],
      text,
    );
  }
}
