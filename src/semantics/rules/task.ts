/** VN014/VN015 task: a network's `task` names one of the tasks vnet knows (classification when it says nothing). */
import type { NetworkSettingsRule } from "../context.js";
import { didYouMean } from "../suggest.js";
import { DEFAULT_TASK, TASK_NAMES, type TaskName } from "../tasks/index.js";
import { show, type Value } from "../values.js";

/** The task a `task` value names; the default when it is missing or wrong. */
export function taskOf(value: Value | undefined): TaskName {
  return value?.t === "str" && (TASK_NAMES as readonly string[]).includes(value.v) ? (value.v as TaskName) : DEFAULT_TASK;
}

export const taskRule: NetworkSettingsRule = (context, { local }) => {
  const task = local("task");
  if (!task || task.value.t === "err") return;
  const { value, origin } = task;
  const known = `tasks are: ${TASK_NAMES.join(", ")}`;
  if (value.t !== "str") context.report("VN014", "error", `\`task\` must be a string, got ${show(value)}`, origin.file, origin.range, { hint: known });
  else if (!(TASK_NAMES as readonly string[]).includes(value.v)) {
    context.report("VN015", "error", `unknown task ${show(value)}`, origin.file, origin.range, { hint: didYouMean(value.v, TASK_NAMES) ?? known });
  }
};
