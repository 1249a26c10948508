/** `vnet codes`: every diagnostic code with its name, severity and meaning. */
import { CODES } from "../../diagnostics/codes.js";
import { defineCommand } from "../command.js";

export const command = defineCommand({
  name: "codes",
  usage: "codes",
  description: "Lists the diagnostic codes (generated/codes.md has the same table).",
  positional: { names: "", min: 0, max: 0 },
  flags: {},
  run(_args, { out }) {
    for (const c of CODES.values()) out(`${c.code}  ${c.severity.padEnd(7)}  ${c.name.padEnd(32)}  ${c.summary}`);
    return 0;
  },
});
