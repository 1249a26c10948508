import { describe, expect, it } from "vitest";
import { totals } from "../src/semantics/network.js";
import { checkText, codes, covered } from "./helpers.js";

const net = (body: string, extra = "") => `${extra}
network n {
  classes = 5
  input video = clip(frames = 8, size = 32)
${body}
}
`;

describe("shape inference", () => {
  it("infers conv3d and pooling shapes and counts parameters", () => {
    const r = checkText(
      net(`  x = video -> conv3d(8, kernel = 3, pad = 1) -> bn -> relu -> maxpool3d(kernel = [1, 2, 2])
  output x -> global_avg_pool -> dense(classes)`),
    );
    expect(codes(r)).toEqual([]);
    const n = r.networks[0]!;
    const shapes = n.layers.map((l) => `${l.op}:${l.shape.join("x")}`);
    expect(shapes).toEqual(["input:8x32x32x3", "conv3d:8x32x32x8", "bn:8x32x32x8", "relu:8x32x32x8", "maxpool3d:8x16x16x8", "global_avg_pool:8", "dense:5"]);
    expect(totals(n).trainable).toBe(3 * 27 * 8 + 8 + 16 + 8 * 5 + 5);
  });

  it("pads 'same' the TensorFlow way, asymmetric when needed", () => {
    const r = checkText(net(`  output video -> conv3d(4, kernel = [1, 4, 4], stride = [1, 2, 2], pad = "same") -> global_avg_pool -> dense(classes)`));
    expect(codes(r)).toEqual([]);
    expect(r.networks[0]!.layers[1]!.shape).toEqual([8, 16, 16, 4]);
  });

  it("reports a shape mismatch at add with both shapes and where each came from", () => {
    const r = checkText(
      net(`  a = video -> conv3d(8, kernel = 3, pad = 1)
  b = video -> conv3d(16, kernel = 3, pad = 1)
  output [a, b] -> add -> global_avg_pool -> dense(classes)`),
    );
    expect(codes(r)).toEqual(["VN020"]);
    const d = r.diagnostics[0]!;
    expect(d.message).toContain("[N, 8, 32, 32, 8]");
    expect(d.message).toContain("[N, 8, 32, 32, 16]");
    expect(d.related?.length).toBeGreaterThanOrEqual(2);
    expect(covered(r)).toBe("add");
  });

  it("warns at a temporal stride that leaves frames unread (PyTorch computes such layers)", () => {
    const r = checkText(net(`  output video -> conv3d(4, kernel = 1, stride = [3, 1, 1]) -> global_avg_pool -> dense(classes)`));
    expect(codes(r)).toEqual(["VN022"]);
    expect(r.diagnostics[0]!.severity).toBe("warning");
    expect(covered(r)).toBe("[3, 1, 1]");
  });

  it("rejects conv2d on a clip with a hint towards per_frame", () => {
    const r = checkText(net(`  output video -> conv2d(4, kernel = 3) -> global_avg_pool -> dense(classes)`));
    expect(codes(r)).toEqual(["VN021"]);
    expect(r.diagnostics[0]!.hint).toContain("per_frame");
  });

  it("checks the classifier width against classes", () => {
    const r = checkText(net(`  output video -> global_avg_pool -> dense(7)`));
    expect(codes(r)).toEqual(["VN024"]);
  });

  it("applies 2D layers per frame and stacks frames for early fusion", () => {
    const r = checkText(
      net(`  f = video -> per_frame { conv2d(4, kernel = 3, pad = 1) -> relu -> global_avg_pool }
  e = video -> stack_frames -> conv2d(6, kernel = 3)
  output [f -> temporal_pool, e -> global_avg_pool] -> concat -> dense(classes)`),
    );
    expect(codes(r)).toEqual([]);
    const n = r.networks[0]!;
    expect(n.layers.find((l) => l.op === "per_frame")!.shape).toEqual([8, 4]);
    expect(n.layers.find((l) => l.op === "stack_frames")!.shape).toEqual([32, 32, 24]);
  });

  it("counts frozen per_frame weights separately", () => {
    const r = checkText(net(`  output video -> per_frame(freeze = true) { conv2d(4, kernel = 1) -> global_avg_pool } -> lstm(3) -> dense(classes)`));
    expect(codes(r)).toEqual([]);
    const t = totals(r.networks[0]!);
    expect(t.frozen).toBe(3 * 4 + 4);
    expect(t.trainable).toBe(4 * (4 * 3 + 3 * 3 + 3) + 3 * 5 + 5);
  });
});

describe("names and calls", () => {
  it("suggests the closest operator", () => {
    const r = checkText(net(`  output video -> conv3(4, kernel = 3) -> global_avg_pool -> dense(classes)`));
    expect(codes(r)).toEqual(["VN011"]);
    expect(r.diagnostics[0]!.hint).toBe("did you mean `conv3d`?");
  });

  it("suggests the closest parameter and does not also report it missing", () => {
    const r = checkText(net(`  output video -> conv3d(4, kernal = 3) -> global_avg_pool -> dense(classes)`));
    expect(codes(r)).toEqual(["VN012"]);
    expect(r.diagnostics[0]!.hint).toBe("did you mean `kernel`?");
  });

  it("reports an unknown name once and stays quiet downstream", () => {
    const r = checkText(
      net(`  x = vidoe -> conv3d(4, kernel = 3)
  output x -> global_avg_pool -> dense(classes)`),
    );
    expect(codes(r)).toEqual(["VN010"]);
    expect(r.diagnostics[0]!.hint).toBe("did you mean `video`?");
  });

  it("expands blocks with defaults, loops and hierarchical names", () => {
    const r = checkText(
      net(
        `  x = video -> for i in 0..2 { unit(4 * (i + 1)) } as stage
  output x -> global_avg_pool -> dense(classes) as fc`,
        `block unit(width, k = 3) {
  input x
  output x -> conv3d(width, kernel = k, pad = floor(k / 2)) as conv -> relu
}
`,
      ),
    );
    expect(codes(r)).toEqual([]);
    const names = r.networks[0]!.layers.map((l) => l.name);
    expect(names).toContain("stage.0.conv");
    expect(names).toContain("stage.1.conv");
    expect(r.networks[0]!.layers.find((l) => l.name === "stage.1.conv")!.shape).toEqual([8, 32, 32, 8]);
  });

  it("finds block recursion statically", () => {
    const r = checkText(
      net(
        `  output video -> a -> global_avg_pool -> dense(classes)`,
        `block a() {\n  input x\n  output x -> b\n}\nblock b() {\n  input x\n  output x -> a\n}\n`,
      ),
    );
    expect(codes(r)).toContain("VN030");
  });

  it("warns about unused bindings, streams and blocks", () => {
    const r = checkText(
      net(
        `  stream s = video -> subsample(stride = 2)
  unused = 3
  output video -> global_avg_pool -> dense(classes)`,
        `block spare() {\n  input x\n  output x\n}\n`,
      ),
    );
    expect(codes(r).sort()).toEqual(["VN040", "VN041", "VN042"]);
    expect(r.diagnostics.every((d) => d.severity === "warning")).toBe(true);
  });
});

describe("imports", () => {
  it("resolves imports relative to the importing file", () => {
    const r = checkText(net(`  output video -> unit -> global_avg_pool -> dense(classes)`, `import { unit } from "./lib/units.vnet"\n`), {
      "lib/units.vnet": "block unit() {\n  input x\n  output x -> relu\n}\n",
    });
    expect(codes(r)).toEqual([]);
  });

  it("reports missing files, cycles, names and paths outside the root", () => {
    expect(codes(checkText(`import { a } from "./nope.vnet"\n`))).toEqual(["VN031"]);
    expect(codes(checkText(`import { a } from "../../outside.vnet"\n`))).toEqual(["VN033"]);
    const cycle = checkText(`import { b } from "./b.vnet"\nblock a() {\n  input x\n  output x -> b\n}\n`, {
      "b.vnet": `import { a } from "./main.vnet"\nblock b() {\n  input x\n  output x -> relu\n}\n`,
    });
    expect(codes(cycle)).toContain("VN032");
    const unknown = checkText(`import { nope } from "./b.vnet"\n`, { "b.vnet": "block b() {\n  input x\n  output x\n}\n" });
    expect(codes(unknown)).toEqual(["VN034"]);
  });
});

describe("streams and fusion", () => {
  it("derives SlowFast pathways and checks alpha against their frame rates", () => {
    const body = (alpha: number) => `  stream fast = video -> subsample(stride = 1)
  stream slow = video -> subsample(stride = 4)
  s = [slow -> conv3d(8, kernel = 1), fast -> conv3d(2, kernel = 1)] -> lateral(alpha = ${alpha})
  output s -> global_avg_pool -> dense(classes)`;
    const ok = checkText(net(body(4)));
    expect(codes(ok)).toEqual([]);
    const lateral = ok.networks[0]!.layers.find((l) => l.op === "lateral")!;
    expect(lateral.shape).toEqual([2, 32, 32, 12]);
    expect(lateral.params).toBe(5 * 2 * 4 + 2 * 4);
    const bad = checkText(net(body(8)));
    expect(codes(bad)).toEqual(["VN023"]);
    expect(bad.diagnostics[0]!.hint).toContain("alpha = 4");
  });

  it("makes each stream a named model input and keeps flow in the data pipeline", () => {
    const r = checkText(`network n {
  classes = 5
  input video = clip(frames = 11, size = 32)
  stream rgb = video -> frame(index = 5)
  stream flow = video -> optical_flow(pairs = 10)
  a = rgb -> conv2d(4, kernel = 3) -> global_avg_pool -> dense(classes)
  b = flow -> conv2d(4, kernel = 3) -> global_avg_pool -> dense(classes)
  output [a, b] -> score_fusion(average = "softmax", train = "separate")
}
`);
    expect(codes(r)).toEqual([]);
    const inputs = r.networks[0]!.inputs.filter((i) => i.modelInput).map((i) => `${i.name}:${i.shape.join("x")}`);
    expect(inputs).toEqual(["rgb:32x32x3", "flow:32x32x20"]);
  });

  it("refuses optical flow inside the model", () => {
    const r = checkText(net(`  output video -> optical_flow(pairs = 2) -> global_avg_pool -> dense(classes)`));
    expect(codes(r)).toEqual(["VN014"]);
    expect(r.diagnostics[0]!.hint).toContain("stream");
  });
});

describe("sections", () => {
  it("validates sampling and training settings with did-you-mean", () => {
    const r = checkText(
      net(`  output video -> global_avg_pool -> dense(classes)
  sampling {
    train { stride = 2, choise = "random", crop = 32 }
    test { clips = 10, crops = "tree" }
  }
  training { optimizer = "sgd", lr = -1 }`),
    );
    expect(codes(r)).toEqual(["VN019", "VN015", "VN015"]);
    expect(r.diagnostics[0]!.hint).toBe("did you mean `choice`?");
    expect(r.diagnostics[1]!.hint).toBe("did you mean `three`?");
    const sampling = r.networks[0]!.sections.sampling as Record<string, Record<string, unknown>>;
    expect(sampling.train!.flip).toBe(true);
    expect(sampling.test!.average).toBe("softmax");
  });

  it("requires the training crop to equal the input size", () => {
    const r = checkText(
      net(`  output video -> global_avg_pool -> dense(classes)
  sampling { train { crop = 64 } }`),
    );
    expect(codes(r)).toEqual(["VN061"]);
  });
});

describe("inflation", () => {
  const source = `network small2d {
  classes = 10
  input image = image(size = 32)
  x = image -> conv2d(4, kernel = 3, pad = 1, bias = false) as conv1 -> bn -> relu -> maxpool2d(kernel = 2) as pool
    -> conv2d(8, kernel = 3, pad = 1) as conv2 -> relu
  output x -> global_avg_pool -> dense(classes) as fc
}
`;
  it("turns 2D convs and pools into 3D ones with rule-given temporal kernels", () => {
    const r = checkText(`${source}
network small3d {
  classes = 5
  input video = clip(frames = 8, size = 32)
  inflate small2d {
    init = "repeat"
    "conv1" { kernel = 3 }
    "pool" { kernel = 2, stride = 2 }
  }
}
`);
    expect(codes(r)).toEqual([]);
    const n = r.networks.find((x) => x.name === "small3d")!;
    const conv1 = n.layers.find((l) => l.name === "conv1")!;
    expect(conv1.op).toBe("conv3d");
    expect(conv1.args.kernel).toEqual([3, 3, 3]);
    expect(conv1.inflated).toEqual({ from: "conv2d", temporalKernel: 3, init: "repeat" });
    expect(n.layers.find((l) => l.name === "pool")!.shape).toEqual([4, 16, 16, 4]);
    expect(n.layers.find((l) => l.name === "conv2")!.args.kernel).toEqual([1, 3, 3]);
    expect(n.layers.find((l) => l.name === "fc")!.shape).toEqual([5]);
    expect(n.inflatedFrom).toBe("small2d");
  });

  it("rejects rules that match nothing or match no conv/pool", () => {
    const r = checkText(`${source}
network small3d {
  classes = 5
  input video = clip(frames = 8, size = 32)
  inflate small2d {
    "conv3" { kernel = 3 }
    "fc" { kernel = 3 }
  }
}
`);
    expect(codes(r)).toEqual(["VN050", "VN051"]);
    expect(r.diagnostics[0]!.hint).toContain("conv");
  });
});

describe("unused bindings in blocks", () => {
  it("counts a binding used if any expansion reads it", () => {
    const r = checkText(
      net(
        `  output video -> blk() -> blk(stride = 2) -> global_avg_pool -> dense(classes)`,
        `block blk(stride = 1) {
  input x
  t = stride
  y = if stride != 1 then x -> conv3d(4, kernel = 1, stride = [t, 1, 1]) else x
  output y
}
`,
      ),
    );
    expect(codes(r)).toEqual([]);
  });
});

describe("one mistake, one diagnostic", () => {
  it("reports a file that does not parse by its syntax errors alone", () => {
    const r = checkText(net(`  output video -> conv3d(2 kernel = 1) -> global_avg_pool -> dense(classes)`));
    expect(codes(r)).toEqual(["VN002"]);
    expect(r.diagnostics[0]!.message).toBe("expected `)` but found name `kernel`");
  });

  it("parses on after an unclosed string", () => {
    const r = checkText(
      `network n {\n  description = "abc\n  classes = 2\n  input video = clip(frames = 2, size = 8)\n  output video -> global_avg_pool -> dense(classes)\n}\n`,
    );
    expect(codes(r)).toEqual(["VN003"]);
  });

  it("does not add 'no output' when the output expression failed", () => {
    const r = checkText(`import { b } from "./nope.vnet"\n${net(`  output video -> b -> global_avg_pool -> dense(classes)`)}`);
    expect(codes(r)).toEqual(["VN031"]);
  });

  it("reports independent syntax errors on different lines", () => {
    const r = checkText(`network n {\n  classes = 2\n  input video = clip(frames = 2 size = 8)\n  x = video -> relu(\n  output video\n}\n`);
    expect(codes(r)).toEqual(["VN002", "VN002"]);
  });
});

describe("inflation globs", () => {
  it("lets `**` inside alternatives cross dots", async () => {
    const { globToRegExp } = await import("../src/semantics/inflate.js");
    expect(globToRegExp("{**}.conv").test("s.u.conv")).toBe(true);
    expect(globToRegExp("{stem,**.b3x3}.conv").test("mixed.branch.b3x3.conv")).toBe(true);
    expect(globToRegExp("res{3,4}.*.a").test("res3.0.a")).toBe(true);
    expect(globToRegExp("res{3,4}.*.a").test("res3.0.1.a")).toBe(false);
  });
});

describe("nonlocal on small maps", () => {
  it("reports a subsampling non-local block on a map smaller than 2x2 (which would empty phi and g)", () => {
    const spec = (subsample: string) => `network nl {
  classes = 3
  input video = clip(frames = 4, size = 8)
  x = video -> conv3d(8, kernel = 3, stride = [1, 8, 8], pad = 1) -> nonlocal(${subsample})
  output x -> global_avg_pool -> dense(classes)
}`;
    const result = checkText(spec(""));
    expect(codes(result)).toEqual(["VN025"]);
    expect(result.diagnostics[0]!.hint).toMatch(/subsample = false/);
    expect(codes(checkText(spec("subsample = false")))).toEqual([]);
  });
});
