/** VN062 network-structure: a network needs an input and (unless it is inflated) an output. */
import type { NetworkGraphRule } from "../context.js";

export const networkStructureRule: NetworkGraphRule = (context, _network, { decl, module }) => {
  if (!decl.body.some((s) => s.kind === "Input")) {
    context.report("VN062", "error", `network \`${decl.name.name}\` has no input`, module.file, decl.name.range, {
      hint: "add `input video = clip(frames = 16, size = 112)`",
    });
  }
  // A failed output expression was already reported; only a missing `output` statement is news.
  const inflated = decl.body.some((s) => s.kind === "Inflate");
  if (!inflated && !decl.body.some((s) => s.kind === "Output")) {
    context.report("VN062", "error", `network \`${decl.name.name}\` has no output`, module.file, decl.name.range, {
      hint: "end the network with `output x -> global_avg_pool -> dense(classes)`",
    });
  }
};
