import { describe, expect, it } from "vitest";
import { flagName, formatFlags, parseArgs, UsageError, type FlagSpecs } from "../../src/cli/args.js";

const FLAGS = {
  out: { type: "string", alias: "-o", value: "DIR", doc: "where" },
  lr: { type: "number", above: 0, doc: "learning rate" },
  trainClips: { type: "int", min: 1, doc: "clips" },
  valFraction: { type: "number", min: 0, below: 1, doc: "share" },
  optimizer: { type: "choice", choices: ["sgd", "adam"], default: "sgd", doc: "optimizer" },
  resume: { type: "switch", doc: "continue" },
} as const satisfies FlagSpecs;

const ONE = { names: "spec file", min: 1, max: 1 };

function parse(...args: string[]) {
  return parseArgs("train", FLAGS, ONE, args);
}

function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a usage error");
}

describe("the flag parser", () => {
  it("parses values, aliases, --flag=value, switches and defaults into typed values", () => {
    const parsed = parse("spec.vnet", "-o", "run", "--lr=0.5", "--train-clips", "3", "--resume");
    expect(parsed.positional).toEqual(["spec.vnet"]);
    expect(parsed.flags).toEqual({ out: "run", lr: 0.5, trainClips: 3, valFraction: undefined, optimizer: "sgd", resume: true });
    expect([...parsed.given].sort()).toEqual(["lr", "out", "resume", "trainClips"]);
    const lr: number | undefined = parsed.flags.lr;
    const optimizer: "sgd" | "adam" = parsed.flags.optimizer;
    expect([lr, optimizer]).toEqual([0.5, "sgd"]);
  });

  it("names flags by their keys in kebab case", () => {
    expect(flagName("trainClips")).toBe("--train-clips");
    expect(flagName("dumpIr")).toBe("--dump-ir");
  });

  it("refuses an unknown flag, with a suggestion when one is close", () => {
    expect(usageMessage(() => parse("s", "--strict"))).toBe(
      "unknown option --strict for vnet train (options: --out, --lr, --train-clips, --val-fraction, --optimizer, --resume)",
    );
    expect(usageMessage(() => parse("s", "--train-clip", "3"))).toBe("unknown option --train-clip for vnet train; did you mean --train-clips?");
  });

  it("refuses an empty value (`--lr=`) and a missing one", () => {
    expect(usageMessage(() => parse("s", "--lr="))).toBe("--lr needs a value, got an empty one");
    expect(usageMessage(() => parse("s", "--lr"))).toBe("--lr needs a value: a number > 0");
    expect(usageMessage(() => parse("s", "-o", "--resume"))).toBe("-o needs a value: DIR");
  });

  it("refuses values out of range, malformed numbers and fractions where integers go", () => {
    expect(usageMessage(() => parse("s", "--train-clips", "0"))).toBe("--train-clips must be an integer >= 1, got 0");
    expect(usageMessage(() => parse("s", "--train-clips", "1.5"))).toBe("--train-clips needs an integer, got `1.5`");
    expect(usageMessage(() => parse("s", "--lr", "0"))).toBe("--lr must be a number > 0, got 0");
    expect(usageMessage(() => parse("s", "--lr", "-1"))).toBe("--lr must be a number > 0, got -1");
    expect(usageMessage(() => parse("s", "--lr", "0x10"))).toBe("--lr needs a number, got `0x10`");
    expect(usageMessage(() => parse("s", "--lr", "1e999"))).toBe("--lr needs a finite number, got `1e999`");
    expect(usageMessage(() => parse("s", "--val-fraction", "1"))).toBe("--val-fraction must be a number >= 0 and < 1, got 1");
    expect(parse("s", "--lr", "1e-3").flags.lr).toBe(0.001);
  });

  it("refuses an unknown choice, a flag given twice, and a value given to a switch", () => {
    expect(usageMessage(() => parse("s", "--optimizer", "adamw"))).toBe("unknown --optimizer adamw (sgd, adam); did you mean adam?");
    expect(usageMessage(() => parse("s", "--lr", "1", "--lr", "2"))).toBe("--lr is given twice");
    expect(usageMessage(() => parse("s", "--resume=yes"))).toBe("--resume takes no value (got --resume=yes)");
  });

  it("counts positional arguments; `--` ends the flags", () => {
    expect(usageMessage(() => parse())).toBe("vnet train takes one spec file");
    expect(usageMessage(() => parse("a", "b"))).toBe("vnet train takes one spec file (got a b)");
    expect(parse("--", "--odd-name.vnet").positional).toEqual(["--odd-name.vnet"]);
    expect(usageMessage(() => parseArgs("codes", {}, { names: "", min: 0, max: 0 }, ["--x"]))).toBe("unknown option --x for vnet codes (it takes no options)");
  });

  it("renders the declarations as help, ranges and defaults included", () => {
    const help = formatFlags(FLAGS).join("\n");
    expect(help).toMatch(/-o, --out DIR +where/);
    expect(help).toMatch(/--train-clips N +clips \[an integer >= 1\]/);
    expect(help).toMatch(/--optimizer sgd\|adam +optimizer \[default sgd\]/);
  });
});
