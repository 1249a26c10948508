/**
 * The HTML pages in a real browser: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), started headless with no network. `vnet report` of a small run must render
 * every section (no console error, every image decoded, the charts and the drawing drawn), and
 * the interactive `vnet graph` page must open a block on a click. Screenshots are saved under
 * dist/test-screenshots/. Without a browser the test fails and says how to install one.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lowerNetwork } from "../../src/ir/pipeline.js";
import { motionDataset } from "../../src/data/motion.js";
import { selectBackend } from "../../src/runtime/backend.js";
import { trainingConfig, trainNetwork } from "../../src/runtime/train.js";
import { checkFiles } from "../../src/semantics/check.js";
import { launchChromium } from "../../scripts/chromium.js";
import { vnet } from "../helpers.js";

const repo = path.resolve(__dirname, "../..");
const screenshots = path.join(repo, "dist/test-screenshots");
const dirs: string[] = [];
let context: BrowserContext;

beforeAll(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-chromium-"));
  dirs.push(profile);
  context = await launchChromium(profile);
  fs.mkdirSync(screenshots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await context?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Opens a page, recording console errors and failed requests (there must be none: it is one file). */
async function open(file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("requestfailed", (request) => errors.push(`request failed: ${request.url().slice(0, 80)}`));
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  return { page, errors };
}

describe("the HTML pages in Chromium", () => {
  it("vnet report renders every section: spec, drawing, curves, evaluation, Grad-CAM", async () => {
    await selectBackend({ force: "wasm" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-report-"));
    dirs.push(dir);
    const spec = path.join(repo, "specs/tiny/tiny_early_fusion_gap.vnet");
    const network = checkFiles([spec]).networks[0]!;
    const runDir = path.join(dir, "run");
    const data = motionDataset({ classes: 5, frames: 8, size: 32, trainPerClass: 8, valPerClass: 2, seed: 1 });
    const trained = await trainNetwork(lowerNetwork(network), data, {
      config: trainingConfig(network, { optimizer: "adam", lr: 0.004, batch: 8, epochs: 2 }),
      runDir,
      seed: 1,
    });
    trained.model.dispose();
    const file = path.join(dir, "report.html");
    // The builtin validation split depends on the seed and its size only, so it is the run's.
    const r = await vnet(["report", runDir, "--spec", spec, "--data", "builtin:motion", "--val-clips", "2", "--seed", "1", "-o", file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/evaluated 10 val videos/);
    const { page, errors } = await open(file);
    const sections = await page.$$eval("section[data-section]", (all) =>
      all.map((s) => ({ id: s.getAttribute("data-section"), height: s.getBoundingClientRect().height })),
    );
    expect(sections.map((s) => s.id)).toEqual(["spec", "network", "curves", "evaluation", "gradcam"]);
    for (const s of sections) expect(s.height, s.id!).toBeGreaterThan(100);
    // Every image decoded (the confusion matrix, the Grad-CAM sheets).
    const images = await page.$$eval("img", (all) => all.map((i) => ({ alt: i.alt, ok: i.complete && i.naturalWidth > 0 })));
    expect(images.length).toBeGreaterThanOrEqual(3);
    for (const image of images) expect(image.ok, image.alt).toBe(true);
    expect(await page.$$eval("#gradcam figure.cam", (all) => all.length)).toBe(4);
    // The charts drawn: Vega's lines in the curves, Graphviz's boxes and edges in the drawing.
    expect(await page.$$eval("#curves svg path", (all) => all.filter((p) => (p.getAttribute("d") ?? "").length > 20).length)).toBeGreaterThan(4);
    expect(await page.$$eval("#network svg g.node", (all) => all.length)).toBeGreaterThan(10);
    expect(await page.$$eval("#network svg g.edge", (all) => all.length)).toBeGreaterThan(10);
    expect(await page.$$eval("#spec table.summary tbody tr", (all) => all.length)).toBe(network.layers.length);
    expect(await page.textContent("#evaluation .headline")).toMatch(/top-1 [\d.]+% · top-5 [\d.]+%/);
    await page.screenshot({ path: path.join(screenshots, "report.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  it("the vnet graph page draws in the browser and opens a block on a click", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-graph-html-"));
    dirs.push(dir);
    const file = path.join(dir, "net.html");
    expect((await vnet(["graph", path.join(repo, "specs/tiny/tiny_slowfast.vnet"), "--depth", "1", "-o", file])).code).toBe(0);
    const { page, errors } = await open(file);
    await page.waitForSelector("#graph svg g.node", { timeout: 60_000 });
    const status = async () => (await page.textContent("#status")) ?? "";
    const before = await status();
    const nodes = await page.$$eval("#graph svg g.node", (all) => all.length);
    // A closed block is a node with a `group-<i>` id; a click opens it into a box of its layers.
    await page.click('#graph g.node[id^="group-"]');
    await page.waitForFunction((previous) => document.getElementById("status")?.textContent !== previous, before);
    expect(await page.$$eval("#graph svg g.node", (all) => all.length)).toBeGreaterThan(nodes);
    expect(Number(/^(\d+) of/.exec(await status())![1])).toBe(Number(/^(\d+) of/.exec(before)![1]) + 1);
    await page.click("#close-all");
    await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("0 of"));
    await page.screenshot({ path: path.join(screenshots, "graph.png") });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
