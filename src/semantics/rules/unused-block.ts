/** VN041 unused-block: a block nothing applies, in a file with a network (a warning; library files export their blocks). */
import { stageCalleeNames } from "../../syntax/walk.js";
import type { CheckContext } from "../context.js";

export function unusedBlockRule(context: CheckContext): void {
  for (const module of context.program.modules.values()) {
    if (!module.ast.items.some((i) => i.kind === "Network")) continue;
    const used = stageCalleeNames(module.ast);
    for (const item of module.ast.items) {
      if (item.kind === "Block" && !used.has(item.name.name) && !context.usedBlocks.has(item)) {
        context.report("VN041", "warning", `block \`${item.name.name}\` is never used`, module.file, item.name.range, {
          hint: "apply it in a network (`x -> " + item.name.name + "(...)`) or remove it",
        });
      }
    }
  }
}
