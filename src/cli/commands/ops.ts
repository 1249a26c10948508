/** `vnet ops`: the operator catalogue with every parameter and its default. */
import { OPERATORS } from "../../ops/catalogue.js";
import { defineCommand } from "../command.js";

export const command = defineCommand({
  name: "ops",
  usage: "ops [--format text|json]",
  description: "Lists the operators, their parameters and defaults (generated/operators.md has the full reference).",
  positional: { names: "", min: 0, max: 0 },
  flags: {
    format: { type: "choice", choices: ["text", "json"], default: "text", doc: "output format" },
  },
  run({ flags }, { out }) {
    const ops = [...OPERATORS.values()].map((op) => ({
      name: op.name,
      category: op.category,
      doc: op.doc,
      inputs: op.inputs,
      params: op.params.map((p) => ({ name: p.name, type: p.type, default: p.default, doc: p.doc })),
    }));
    if (flags.format === "json") out(JSON.stringify(ops, null, 2));
    else
      for (const op of ops)
        out(`${op.name}(${op.params.map((p) => (p.default === undefined ? p.name : `${p.name} = ${JSON.stringify(p.default)}`)).join(", ")})\n    ${op.doc}`);
    return 0;
  },
});
