/**
 * VN024 classifier-width, VN063/VN064 (the other tasks' output and input contracts): the network
 * produces what its task's contract asks for (src/semantics/tasks), located at each output.
 */
import type * as A from "../../syntax/ast.js";
import type { NetworkGraphRule } from "../context.js";
import { taskContract } from "../tasks/index.js";

export const taskContractRule: NetworkGraphRule = (context, network, { decl, module }) => {
  const inflated = decl.body.some((s) => s.kind === "Inflate");
  // A failed output expression was already reported.
  if (network.outputs.length === 0 && !inflated) return;
  const statement = decl.body.find((s): s is A.OutputDecl => s.kind === "Output");
  const outputs = network.outputs.map((_, i) => statement?.values[i]?.range ?? statement?.values[0]?.range ?? decl.name.range);
  taskContract(network.task).check(network, { name: decl.name.range, outputs }, (code, message, range, hint) =>
    context.report(code, "error", message, module.file, range, hint ? { hint } : {}),
  );
};
