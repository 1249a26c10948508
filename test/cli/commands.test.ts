import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { Command, CommandGroup } from "../../src/cli/command.js";
import { COMMANDS } from "../../src/cli/commands.js";
import { vnet } from "../helpers.js";

/** Every command line the table reaches: `check`, ..., `data synth`, `weights import`. */
async function everyCommand(): Promise<{ words: string[]; command: Command }[]> {
  const all: { words: string[]; command: Command }[] = [];
  for (const entry of COMMANDS) {
    const loaded = await entry.load();
    if ("subcommands" in loaded) for (const sub of (loaded as CommandGroup).subcommands) all.push({ words: [entry.name, sub.name], command: sub });
    else all.push({ words: [entry.name], command: loaded });
  }
  return all;
}

describe("the command table", () => {
  it("lists each command once, under the name its module declares", async () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of COMMANDS) expect((await entry.load()).name).toBe(entry.name);
  });

  it("every command refuses an unknown flag with exit 2 before doing anything", async () => {
    const spec = path.resolve(__dirname, "../../specs/tiny/tiny_r3d.vnet");
    for (const { words } of await everyCommand()) {
      const r = await vnet([...words, "--strict", spec]);
      expect(r.code, words.join(" ")).toBe(2);
      expect(r.err, words.join(" ")).toMatch(new RegExp(`^vnet: unknown option --strict for vnet ${words.join(" ")}`));
    }
  });

  it("every command's --help exits 0 and documents each of its flags", async () => {
    for (const { words, command } of await everyCommand()) {
      const r = await vnet([...words, "--help"]);
      expect(r.code, words.join(" ")).toBe(0);
      expect(r.out).toContain(`usage: vnet ${command.usage}`);
      for (const key of Object.keys(command.flags))
        expect(r.out, `${words.join(" ")} ${key}`).toContain(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    }
  });

  it("vnet help lists every command; an unknown one gets a suggestion and exit 2", async () => {
    const help = await vnet(["help"]);
    expect(help.code).toBe(0);
    for (const entry of COMMANDS) expect(help.out).toContain(`  ${entry.name} `);
    expect((await vnet([])).code).toBe(2);
    const typo = await vnet(["chek", "x.vnet"]);
    expect(typo.code).toBe(2);
    expect(typo.err).toBe("vnet: unknown command `chek`; did you mean `check`? (`vnet help` lists the commands)");
    const sub = await vnet(["data", "synthesize"]);
    expect(sub).toMatchObject({ code: 2, err: "vnet: unknown vnet data subcommand `synthesize` (synth)" });
  });

  it("vnet eval of an ONNX file (it evaluates specs) is a usage error that names what runs an ONNX file", async () => {
    const r = await vnet(["eval", "model.onnx", "--data", "builtin:motion"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^vnet: vnet eval evaluates a spec with its trained weights .*vnet predict <model\.onnx> <video>/);
  });

  it("the issue's examples: `check --strict`, `train --lr=`, `train --train-clips 0`, `data synth --size 100000` are usage errors", async () => {
    const spec = path.resolve(__dirname, "../../specs/tiny/tiny_r3d.vnet");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-flags-"));
    expect(await vnet(["check", "--strict", spec])).toMatchObject({ code: 2 });
    expect(await vnet(["train", spec, "--data", "builtin:motion", "-o", dir, "--lr="])).toMatchObject({
      code: 2,
      err: "vnet: --lr needs a value, got an empty one",
    });
    expect(await vnet(["train", spec, "--data", "builtin:motion", "-o", dir, "--train-clips", "0"])).toMatchObject({
      code: 2,
      err: "vnet: --train-clips must be an integer >= 1, got 0",
    });
    expect(await vnet(["data", "synth", "--out", path.join(dir, "d"), "--size", "100000"])).toMatchObject({
      code: 2,
      err: "vnet: --size must be an integer >= 8 and <= 1024, got 100000",
    });
    // Nothing was written by any of them.
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
