/** AVA's formats: annotations grouped into multi-label boxes, proposals with scores, exclusions, the label map, clip frames around a keyframe. */
import { describe, expect, it } from "vitest";
import {
  formatAvaAnnotations,
  formatAvaProposals,
  formatLabelMap,
  keyframeClipIndices,
  parseAvaAnnotations,
  parseAvaExclusions,
  parseAvaProposals,
  parseLabelMap,
} from "../../src/data/ava.js";
import { DataError } from "../../src/data/issues.js";

const LABEL_MAP = `item {\n  name: "bend/bow (at the waist)"\n  id: 1\n}\nitem {\n  name: "crawl"\n  id: 3\n  label_type: PERSON_MOVEMENT\n}\n`;

describe("AVA formats", () => {
  it("reads the label map, groups one box's action rows, skips actions outside the map", () => {
    const map = parseLabelMap(LABEL_MAP, "map.pbtxt");
    expect(map).toEqual([
      { id: 1, name: "bend/bow (at the waist)" },
      { id: 3, name: "crawl" },
    ]);
    const csv =
      "-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,1,0\n-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,3,0\n-5KQ66BBWC4,0902,0.332,0.194,0.481,0.891,2,1\n-5KQ66BBWC4,0903,0.1,0.2,0.3,0.4,3,1\n";
    const boxes = parseAvaAnnotations(csv, "train.csv", map);
    expect(boxes.get("-5KQ66BBWC4,902")).toEqual([{ x1: 0.077, y1: 0.151, x2: 0.283, y2: 0.811, person: 0, actions: [0, 1] }]);
    expect(boxes.get("-5KQ66BBWC4,903")![0]!.actions).toEqual([1]);
  });

  it("reads proposals with scores and excluded timestamps; writes what it reads", () => {
    const proposals = parseAvaProposals("vid,0902,0.1,0.2,0.3,0.4,,0.95\nvid,0902,0.5,0.5,0.6,0.9,,0.4\n", "p.csv");
    expect(proposals.get("vid,902")!.map((p) => p.score)).toEqual([0.95, 0.4]);
    expect(parseAvaExclusions("vid,0905\n", "x.csv").has("vid,905")).toBe(true);
    const names = ["right", "left"];
    const map = parseLabelMap(formatLabelMap(names), "m.pbtxt");
    const keyframes = [
      {
        video: "v",
        timestamp: 1,
        boxes: [{ x1: 0.1, y1: 0.2, x2: 0.3, y2: 0.4, person: 0, actions: [0, 1] }],
        proposals: [{ x1: 0.1, y1: 0.2, x2: 0.3, y2: 0.4, score: 0.9 }],
      },
    ];
    expect(parseAvaAnnotations(formatAvaAnnotations(keyframes, map), "a.csv", map).get("v,1")).toEqual(keyframes[0]!.boxes);
    expect(parseAvaProposals(formatAvaProposals(keyframes), "p.csv").get("v,1")).toEqual(keyframes[0]!.proposals);
  });

  it("refuses malformed rows with VN125 and the line", () => {
    const map = parseLabelMap(LABEL_MAP, "m");
    expect(() => parseAvaAnnotations("v,1,0.1,0.2,1.3,0.4,1,0\n", "a.csv", map)).toThrow(/line 1: box coordinates/);
    expect(() => parseAvaProposals("v,1,0.1,0.2,0.3,0.4\n", "p.csv")).toThrow(DataError);
    expect(() => parseLabelMap("labels: 3", "m.pbtxt")).toThrow(/not an AVA label map/);
  });

  it("a clip centred on its keyframe, clamped into the video (PySlowFast's get_sequence)", () => {
    expect(keyframeClipIndices(2, 30, 300, 8, 2)).toEqual([52, 54, 56, 58, 60, 62, 64, 66]);
    expect(keyframeClipIndices(0.08, 25, 4, 4)).toEqual([0, 1, 2, 3]);
    expect(keyframeClipIndices(0, 25, 100, 4)).toEqual([0, 0, 0, 1]);
  });
});
