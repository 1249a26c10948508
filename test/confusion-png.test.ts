import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { confusionPng } from "../src/runtime/confusion-png.js";

describe("confusion matrix picture", () => {
  it("shades each cell by its row fraction, rows = true class", () => {
    const png = PNG.sync.read(
      confusionPng(
        [
          [4, 0],
          [1, 3],
        ],
        { cell: 10 },
      ),
    );
    expect([png.width, png.height]).toEqual([21, 21]);
    const pixel = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    // Centres of the cells: [0][0] is all of its row (darkest), [0][1] none (white), [1][0] a quarter.
    expect(pixel(5, 5)).toEqual([8, 48, 107]);
    expect(pixel(15, 5)).toEqual([255, 255, 255]);
    expect(pixel(5, 15)).toEqual([Math.round(255 - 0.25 * 247), Math.round(255 - 0.25 * 207), Math.round(255 - 0.25 * 148)]);
    // The diagonal is outlined.
    expect(pixel(15, 11)).toEqual([20, 160, 60]);
  });
});
