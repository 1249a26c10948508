/**
 * Formatting through the same prettier plugin as `vnet fmt`. Both prettier and the plugin are
 * loaded on first use, so the server starts (and keeps working) without them; a spec that does
 * not parse is never reformatted.
 */
import type { TextEdit } from "vscode-languageserver";
import { parseSpec } from "../syntax/parse.js";
import { lineIndexOf, toLspPosition } from "./positions.js";

interface PrettierApi {
  format(text: string, options: Record<string, unknown>): Promise<string>;
  resolveConfig?(file: string): Promise<Record<string, unknown> | null>;
}

interface Loaded {
  readonly prettier: PrettierApi;
  readonly plugin: { parsers?: Record<string, unknown>; languages?: { parsers?: string[] }[] };
}

let loading: Promise<Loaded | string> | undefined;

async function load(): Promise<Loaded | string> {
  // A variable specifier: the plugin is built separately, and its absence is a runtime condition.
  const pluginUrl = new URL("../prettier/plugin.js", import.meta.url).href;
  let plugin: Loaded["plugin"];
  try {
    const module = (await import(pluginUrl)) as { default?: Loaded["plugin"] } & Loaded["plugin"];
    plugin = module.default ?? module;
  } catch (error) {
    return `the vnet prettier plugin is not available (${error instanceof Error ? error.message : String(error)})`;
  }
  try {
    const prettierName = "prettier";
    const prettier = (await import(prettierName)) as PrettierApi & { default?: PrettierApi };
    return { prettier: typeof prettier.format === "function" ? prettier : prettier.default!, plugin };
  } catch (error) {
    return `prettier is not installed (${error instanceof Error ? error.message : String(error)}); install it next to vnet`;
  }
}

/**
 * Whole-document edit formatting `text`, or no edits (with the reason logged). The editor's tab
 * settings are not applied: the project's prettier config and the plugin's defaults decide, so the
 * editor and `vnet fmt` always agree.
 */
export async function formatDocument(text: string, file: string, log: (message: string) => void): Promise<TextEdit[]> {
  const errors = parseSpec(text, file).diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) {
    log(`vnet: not formatting ${file}: it does not parse (${errors[0]!.message})`);
    return [];
  }
  loading ??= load();
  const loaded = await loading;
  if (typeof loaded === "string") {
    // Try again next time: the plugin may be built while the server runs.
    loading = undefined;
    log(`vnet: cannot format: ${loaded}`);
    return [];
  }
  const parser = Object.keys(loaded.plugin.parsers ?? {})[0] ?? loaded.plugin.languages?.[0]?.parsers?.[0] ?? "vnet";
  let config: Record<string, unknown> = {};
  try {
    config = (await loaded.prettier.resolveConfig?.(file)) ?? {};
  } catch {
    // A broken prettier config must not block formatting with the editor's settings.
  }
  let formatted: string;
  try {
    formatted = await loaded.prettier.format(text, { ...config, parser, plugins: [loaded.plugin], filepath: file });
  } catch (error) {
    log(`vnet: formatting ${file} failed: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
  if (formatted === text) return [];
  const lines = lineIndexOf(text);
  return [{ range: { start: { line: 0, character: 0 }, end: toLspPosition(lines, text.length) }, newText: formatted }];
}
