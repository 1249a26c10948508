/**
 * A confusion matrix as a PNG heat map (`vnet eval --confusion-png FILE`): one square cell per
 * (true, predicted) pair, rows = true class in the text report's order, shaded by the row's
 * fraction (white 0 -> dark blue 1), the diagonal outlined in green, so a glance shows which
 * classes a model confuses even with a hundred of them. Written atomically through pngjs.
 */
import { PNG } from "pngjs";
import { writeFileAtomic } from "./files.js";

export interface ConfusionPngOptions {
  /** Pixels per cell (default: fits the image in about 600 pixels, between 4 and 48). */
  readonly cell?: number;
}

/** Renders confusion[true][predicted] counts to PNG bytes. */
export function confusionPng(confusion: readonly (readonly number[])[], options: ConfusionPngOptions = {}): Buffer {
  const classes = confusion.length;
  const cell = options.cell ?? Math.max(4, Math.min(48, Math.floor(600 / Math.max(classes, 1))));
  const border = 1;
  const size = classes * cell + border;
  const png = new PNG({ width: size, height: size });
  const set = (x: number, y: number, [r, g, b]: readonly [number, number, number]) => {
    const o = (y * size + x) * 4;
    png.data[o] = r;
    png.data[o + 1] = g;
    png.data[o + 2] = b;
    png.data[o + 3] = 255;
  };
  const grid: [number, number, number] = [200, 200, 200];
  const diagonal: [number, number, number] = [20, 160, 60];
  for (let i = 0; i < classes; i++) {
    const row = confusion[i]!;
    const total = row.reduce((a, b) => a + b, 0);
    for (let j = 0; j < classes; j++) {
      const fraction = total ? row[j]! / total : 0;
      // White to a dark blue (8, 48, 107), linear in the fraction.
      const shade: [number, number, number] = [Math.round(255 - fraction * 247), Math.round(255 - fraction * 207), Math.round(255 - fraction * 148)];
      for (let y = 0; y < cell; y++) {
        for (let x = 0; x < cell; x++) {
          const edge = x === 0 || y === 0;
          const outline = i === j && cell >= 6 && (x <= 1 || y <= 1 || x >= cell - 2 || y >= cell - 2);
          set(j * cell + x, i * cell + y, outline ? diagonal : edge ? grid : shade);
        }
      }
    }
  }
  for (let k = 0; k < size; k++) (set(size - 1, k, grid), set(k, size - 1, grid));
  return PNG.sync.write(png);
}

/** Writes the heat map to `file` atomically (its directory is created when missing). */
export function writeConfusionPng(file: string, confusion: readonly (readonly number[])[], options: ConfusionPngOptions = {}): void {
  writeFileAtomic(file, confusionPng(confusion, options), { createDirectory: true });
}
