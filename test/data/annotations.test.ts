/** Temporal annotations: ActivityNet-style JSON and THUMOS-style lists, malformed entries reported. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readActivityNet, readAnnotations, readThumos, writeActivityNet } from "../../src/data/annotations.js";
import { DataError } from "../../src/data/issues.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-annotations-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
};

describe("ActivityNet-style JSON", () => {
  it("reads videos, durations, subsets and segments, and reports malformed entries", () => {
    const file = write(
      "anet.json",
      JSON.stringify({
        version: "VERSION 1.3",
        database: {
          v_a: {
            duration_second: 20,
            subset: "training",
            annotations: [
              { segment: [1.5, 6], label: "jump" },
              { segment: [8, 25], label: "wave" },
            ],
          },
          v_b: {
            duration_second: 12.5,
            subset: "validation",
            annotations: [
              { segment: [3, 2], label: "jump" },
              { segment: [0, 4], label: "" },
            ],
          },
          v_c: { subset: "validation", annotations: [] },
          v_d: { duration_second: 5, subset: "holdout", annotations: [] },
        },
      }),
    );
    const a = readActivityNet(file);
    expect([...a.videos.keys()]).toEqual(["v_a", "v_b"]);
    expect(a.videos.get("v_a")).toEqual({
      id: "v_a",
      duration: 20,
      split: "train",
      segments: [
        { start: 1.5, end: 6, label: "jump" },
        { start: 8, end: 20, label: "wave" },
      ],
    });
    expect(a.videos.get("v_b")!.split).toBe("val");
    expect(a.videos.get("v_b")!.segments).toEqual([]);
    expect(a.classNames).toEqual(["jump", "wave"]);
    expect(a.issues.map((i) => i.code)).toEqual(["VN121", "VN121", "VN121", "VN121"]);
    expect(a.issues[0]!.message).toMatch(/annotations\[0\].*ends before it starts/);
    expect(a.issues[2]!.message).toMatch(/v_c.*duration_second/);
  });

  it("says where a file that is not JSON breaks, and what the format is", () => {
    const broken = write("broken.json", '{\n  "database": {\n    "v": }\n}');
    const error = (() => {
      try {
        readActivityNet(broken);
      } catch (e) {
        return e as DataError;
      }
    })()!;
    expect(error).toBeInstanceOf(DataError);
    expect(error.issue.code).toBe("VN120");
    expect(() => readActivityNet(write("list.json", "[1, 2]"))).toThrow(/"database"/);
    expect(() => readAnnotations(path.join(dir, "missing.json"))).toThrow(DataError);
  });

  it("writes what it reads", () => {
    const file = path.join(dir, "out", "annotations.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeActivityNet(file, [{ id: "x", duration: 4, split: "val", segments: [{ start: 1, end: 2, label: "up" }] }]);
    expect(readAnnotations(file).videos.get("x")).toEqual({ id: "x", duration: 4, split: "val", segments: [{ start: 1, end: 2, label: "up" }] });
  });
});

describe("THUMOS-style lists", () => {
  it("reads <Class>_<subset>.txt lists: val trains, test evaluates, Ambiguous is left out", () => {
    write("thumos/BaseballPitch_val.txt", "video_validation_0000051 67.5 75.9\nvideo_validation_0000051 12.0 15.1\n");
    write("thumos/HighJump_test.txt", "video_test_0000004 0.2 1.1\nnot a line\n");
    write("thumos/Ambiguous_test.txt", "video_test_0000004 3 4\n");
    const a = readThumos(path.join(dir, "thumos"));
    expect(a.format).toBe("thumos");
    expect(a.videos.get("video_validation_0000051")).toEqual({
      id: "video_validation_0000051",
      split: "train",
      segments: [
        { start: 12, end: 15.1, label: "BaseballPitch" },
        { start: 67.5, end: 75.9, label: "BaseballPitch" },
      ],
    });
    expect(a.videos.get("video_test_0000004")!.split).toBe("val");
    expect(a.videos.get("video_test_0000004")!.segments).toEqual([{ start: 0.2, end: 1.1, label: "HighJump" }]);
    expect(a.issues).toEqual([
      { code: "VN121", path: path.join(dir, "thumos", "HighJump_test.txt"), line: 2, message: "expected `video start end` (seconds), got `not a line`" },
    ]);
    expect(readAnnotations(path.join(dir, "thumos")).format).toBe("thumos");
  });

  it("a folder without lists is VN120", () => {
    fs.mkdirSync(path.join(dir, "empty"), { recursive: true });
    expect(() => readThumos(path.join(dir, "empty"))).toThrow(/THUMOS-style lists/);
  });
});
