/**
 * RGB images as float arrays [H, W, 3] in [0, 1], the form clips and heat maps are in, and the
 * few operations the pictures need: nearest-neighbour enlargement (so 32-pixel clips stay
 * visible), PNG encoding through pngjs, and PNG data URIs for SVG and HTML.
 */
import { PNG } from "pngjs";

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** [height, width, 3], values in [0, 1]. */
  readonly data: Float32Array;
}

/** Enlarges by an integer factor, each pixel becoming a square (nearest neighbour). */
export function enlarge(image: RgbImage, factor: number): RgbImage {
  if (factor === 1) return image;
  const width = image.width * factor;
  const height = image.height * factor;
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < width; x++) {
      const from = (sy * image.width + Math.floor(x / factor)) * 3;
      const to = (y * width + x) * 3;
      data[to] = image.data[from]!;
      data[to + 1] = image.data[from + 1]!;
      data[to + 2] = image.data[from + 2]!;
    }
  }
  return { width, height, data };
}

/** RGBA bytes of an image (opaque). */
export function rgbaBytes(image: RgbImage): Uint8Array {
  const out = new Uint8Array(image.width * image.height * 4);
  for (let i = 0, j = 0; i < image.data.length; i += 3, j += 4) {
    out[j] = Math.round(Math.min(1, Math.max(0, image.data[i]!)) * 255);
    out[j + 1] = Math.round(Math.min(1, Math.max(0, image.data[i + 1]!)) * 255);
    out[j + 2] = Math.round(Math.min(1, Math.max(0, image.data[i + 2]!)) * 255);
    out[j + 3] = 255;
  }
  return out;
}

/** PNG bytes of an image. */
export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(rgbaBytes(image));
  return PNG.sync.write(png);
}

/** A `data:image/png;base64,...` URI of PNG bytes. */
export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
}
