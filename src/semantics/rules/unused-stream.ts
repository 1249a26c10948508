/** VN040 unused-stream: a stream no model layer reads and no expression mentions (a warning). */
import type * as A from "../../syntax/ast.js";
import type { NetworkGraphRule } from "../context.js";

export const unusedStreamRule: NetworkGraphRule = (context, network, { decl, module, local }) => {
  for (const input of network.inputs) {
    if (input.kind !== "stream" || input.modelInput) continue;
    const statement = decl.body.find((s): s is A.StreamDecl => s.kind === "Stream" && s.name.name === input.name);
    if (!statement || local(input.name)?.used) continue;
    context.report("VN040", "warning", `stream \`${input.name}\` is never used`, module.file, statement.name.range, {
      hint: "feed it to a layer or remove it",
    });
  }
};
