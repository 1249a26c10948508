/**
 * The installation running vnet: its package root (the source tree, or the folder an npm install
 * put it in; the compiled dist/ lies under it) and its version, for files vnet writes (ONNX
 * metadata) and for `vnet/...` imports of the shipped spec library.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: { readonly root: string; readonly version: string } | null | undefined;

function findPackage(): { readonly root: string; readonly version: string } | null {
  if (cachedRoot !== undefined) return cachedRoot;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
        if (pkg.name === "vnet") return (cachedRoot = { root: dir, version: pkg.version ?? "unknown" });
      } catch {
        // A damaged package.json on the way up is not vnet's: keep looking above it.
      }
    }
    if (path.dirname(dir) === dir) return (cachedRoot = null);
  }
}

/** The folder of the nearest package.json named "vnet" above this module: the running vnet's package root. */
export function vnetPackageRoot(): string | undefined {
  return findPackage()?.root;
}

/** The `version` of the running vnet's package.json ("unknown" when there is none). */
export function vnetVersion(): string {
  return findPackage()?.version ?? "unknown";
}
