/**
 * A detector's training keyframes augmented as PySlowFast's AVA loader augments them
 * (src/data/views.ts trainKeyframeView): the boxes follow the scale, crop and flip exactly (a
 * bright box region stays under its box), one transform for every frame, drawn from the seed.
 */
import { describe, expect, it } from "vitest";
import type { DetectionKeyframe } from "../../src/data/motion-boxes.js";
import { seededRandom } from "../../src/data/motion.js";
import { viewBox } from "../../src/data/sampling.js";
import { trainKeyframeView } from "../../src/data/views.js";
import { protocolFromSection } from "../../src/semantics/protocol.js";

// Input 2 x 16 x 16; the stored training clip is 40 x 28 (its largest scale, short side 28).
const T = 2;
const SIZE = 16;
const [W, H] = [40, 28];
// The bright region, in the stored frame's pixels: x in [10, 18), y in [6, 14).
const BRIGHT = { x1: 10 / W, y1: 6 / H, x2: 18 / W, y2: 14 / H };
// A box that the crop can leave entirely (near the right edge).
const EDGE = { x1: 37 / W, y1: 0, x2: 39 / W, y2: 4 / H };

function keyframe(): DetectionKeyframe {
  const clip = new Float32Array(T * H * W * 3);
  for (let t = 0; t < T; t++)
    for (let y = 6; y < 14; y++) for (let x = 10; x < 18; x++) for (let c = 0; c < 3; c++) clip[((t * H + y) * W + x) * 3 + c] = t === 0 ? 1 : 0.5;
  return {
    video: "v",
    timestamp: 1,
    clip,
    size: { width: W, height: H },
    boxes: [
      { ...BRIGHT, person: 0, actions: [1] },
      { ...EDGE, person: 1, actions: [0] },
    ],
    proposals: [{ ...BRIGHT, score: 0.9 }],
  };
}

const protocol = protocolFromSection([T, SIZE, SIZE, 3], { train: { scale: [20, 28], crop: SIZE, flip: true } });
const pixel = (view: DetectionKeyframe, t: number, x: number, y: number) => view.clip[((t * SIZE + y) * SIZE + x) * 3]!;

describe("a detector's training keyframe augmentation", () => {
  it("moves the boxes with the scale, crop and flip of their frames, the same for every frame", async () => {
    const flips = new Set<boolean>();
    const offsets = new Set<string>();
    for (let seed = 1; seed <= 24; seed++) {
      const view = await trainKeyframeView(protocol, keyframe(), seededRandom(seed));
      expect(view.clip.length).toBe(T * SIZE * SIZE * 3);
      expect(view.size).toBeUndefined();
      const [box, edge] = view.boxes;
      expect(box!.actions).toEqual([1]);
      expect(view.proposals[0]).toMatchObject({ x1: box!.x1, x2: box!.x2, score: 0.9 });
      for (const b of [box!, edge!]) for (const v of [b.x1, b.y1, b.x2, b.y2]) expect(v >= 0 && v <= 1).toBe(true);
      // The edge box lies right of the bright one, or left where the view is flipped.
      const flipped = edge!.x2 <= box!.x1;
      if (!flipped) expect(edge!.x1).toBeGreaterThanOrEqual(box!.x2);
      flips.add(flipped);
      offsets.add(`${box!.x1.toFixed(3)},${box!.y1.toFixed(3)}`);
      const [bx1, by1, bx2, by2] = [box!.x1 * SIZE, box!.y1 * SIZE, box!.x2 * SIZE, box!.y2 * SIZE];
      let inside = 0;
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const [cx, cy] = [x + 0.5, y + 0.5];
          const within = cx > bx1 + 1.5 && cx < bx2 - 1.5 && cy > by1 + 1.5 && cy < by2 - 1.5;
          const outside = cx < bx1 - 1.5 || cx > bx2 + 1.5 || cy < by1 - 1.5 || cy > by2 + 1.5;
          // Clipped box sides on the crop's edge say nothing about what lies beyond it.
          const atEdge = (bx1 === 0 && cx < 1.5) || (bx2 === SIZE && cx > SIZE - 1.5) || (by1 === 0 && cy < 1.5) || (by2 === SIZE && cy > SIZE - 1.5);
          if (within) (inside++, expect(pixel(view, 0, x, y), `seed ${seed} (${x}, ${y}) in the box`).toBeGreaterThan(0.95));
          if (outside && !atEdge) expect(pixel(view, 0, x, y), `seed ${seed} (${x}, ${y}) off the box`).toBeLessThan(0.05);
          // The same transform on every frame: frame 1 is frame 0 at half brightness.
          expect(pixel(view, 1, x, y)).toBeCloseTo(pixel(view, 0, x, y) / 2, 5);
        }
      }
      if (bx2 - bx1 > 4 && by2 - by1 > 4) expect(inside).toBeGreaterThan(0);
    }
    expect([...flips].sort()).toEqual([false, true]);
    expect(offsets.size).toBeGreaterThan(6);
  });

  it("keeps a box the crop leaves as a box on the crop's edge (PySlowFast keeps clipped boxes)", () => {
    const box = { ...EDGE, person: 1, actions: [0] };
    const size = { width: 30, height: 21 };
    const cut = viewBox(box, protocol, size, { x: 0, y: 2, flip: false });
    expect(cut).toMatchObject({ person: 1, actions: [0], x1: 1, y1: 0, x2: 1 });
    expect(cut.y2).toBeCloseTo((4 * (21 / 28) - 2) / SIZE, 9);
    const flipped = viewBox(box, protocol, size, { x: 0, y: 0, flip: true });
    expect([flipped.x1, flipped.x2]).toEqual([0, 0]);
    // Inside the crop a flip mirrors the corners.
    const plain = viewBox({ x1: 0.5, y1: 0.5, x2: 0.75, y2: 1 }, protocol, { width: 16, height: 16 }, { x: 0, y: 0, flip: true });
    expect(plain).toEqual({ x1: 0.25, y1: 0.5, x2: 0.5, y2: 1 });
  });

  it("is drawn from the generator: the same seed gives the same view; without scale and flip nothing changes", async () => {
    const a = await trainKeyframeView(protocol, keyframe(), seededRandom(7));
    const b = await trainKeyframeView(protocol, keyframe(), seededRandom(7));
    expect(b.boxes).toEqual(a.boxes);
    expect(Buffer.from(b.clip.buffer).equals(Buffer.from(a.clip.buffer))).toBe(true);
    const plain = protocolFromSection([T, SIZE, SIZE, 3], { train: { flip: false } });
    const { size: _size, ...rest } = keyframe();
    const k = { ...rest, clip: new Float32Array(T * SIZE * SIZE * 3) };
    expect(await trainKeyframeView(plain, k, seededRandom(7))).toBe(k);
  });
});
