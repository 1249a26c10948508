/**
 * SVG to PNG through resvg (a Rust SVG renderer, prebuilt for each platform in its npm package):
 * the one rasteriser of `src/vis` (network drawings, training curves, Grad-CAM contact sheets).
 * Text is drawn with the system's fonts; the generic `sans-serif` family (what Graphviz's
 * Helvetica and Vega's default fall back to) is Liberation Sans where it is installed, whose
 * metrics are Helvetica's (Arial's), so labels fit the boxes their layout measured.
 */
import { Resvg } from "@resvg/resvg-js";

export interface PngOptions {
  /** Scale factor over the SVG's own size (default 1). */
  readonly scale?: number;
  /** Background colour (default white; `transparent` for none). */
  readonly background?: string;
  /** Scale embedded images by nearest neighbour (pixels stay square) instead of smoothly. */
  readonly pixelated?: boolean;
}

function render(svg: string, options: PngOptions) {
  const scale = options.scale ?? 1;
  const background = options.background ?? "white";
  return new Resvg(svg, {
    ...(background === "transparent" ? {} : { background }),
    fitTo: scale === 1 ? { mode: "original" } : { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "Liberation Sans", sansSerifFamily: "Liberation Sans" },
    imageRendering: options.pixelated ? 1 : 0,
  }).render();
}

/** Renders an SVG document to RGBA pixels. */
export function rasterize(svg: string, options: PngOptions = {}): { width: number; height: number; pixels: Uint8Array } {
  const image = render(svg, options);
  return { width: image.width, height: image.height, pixels: new Uint8Array(image.pixels) };
}

/** Renders an SVG document to PNG bytes. */
export function svgToPng(svg: string, options: PngOptions = {}): Buffer {
  return render(svg, options).asPng();
}
