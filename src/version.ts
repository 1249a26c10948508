/**
 * vnet's own version, from the package.json of the installation running it (the source tree or
 * the compiled dist/ under it), for files vnet writes (ONNX metadata).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The `version` of the nearest package.json named "vnet" above this module. */
export function vnetVersion(): string {
  if (cached) return cached;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "vnet" && pkg.version) return (cached = pkg.version);
    }
    if (path.dirname(dir) === dir) return (cached = "unknown");
  }
}
