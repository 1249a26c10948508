/**
 * The one way vnet's tools start a browser (the browser tests, `npm run docs:pictures`): Debian's
 * Chromium (or $VNET_CHROMIUM) driven by playwright-core, never a downloaded browser; headless,
 * without a sandbox or a GPU, with background networking (updates, sync, QUIC) off so that the
 * pages it opens are the only thing it loads.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { chromium, type BrowserContext } from "playwright-core";

/** The switches every launch passes: headless, no sandbox (containers), no GPU, nothing fetched behind the page's back. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** $VNET_CHROMIUM (which must exist), else Debian's chromium; the error says how to get one. */
export function findChromium(): string {
  const chosen = process.env.VNET_CHROMIUM;
  if (chosen) {
    if (!fs.existsSync(chosen))
      throw new Error(`VNET_CHROMIUM names ${chosen}, which does not exist: set it to a Chromium binary, or unset it to use Debian's chromium`);
    return chosen;
  }
  for (const c of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (fs.existsSync(c)) return c;
  try {
    const found = execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim();
    if (found) return found;
  } catch {
    // Neither name is on PATH: the error below says what to do.
  }
  throw new Error("no Chromium found: install Debian's chromium (`apt-get install -y chromium`; .ci/run does it) or set VNET_CHROMIUM to a Chromium binary");
}

/** Starts Chromium with its profile in `profile` (a folder the caller owns and removes); close the context when done. */
export async function launchChromium(
  profile: string,
  options: { readonly viewport?: { readonly width: number; readonly height: number } } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: findChromium(),
    headless: true,
    ...(options.viewport ? { viewport: { ...options.viewport } } : {}),
    args: [...CHROMIUM_ARGS],
  });
}
