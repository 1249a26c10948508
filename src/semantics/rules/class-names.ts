/**
 * VN014/VN015 class-names: a network's `classes` is a positive integer, its `class_names` a list
 * of strings, one per class. The readers below are what elaboration keeps; the rule reports.
 */
import type { NetworkSettingsRule } from "../context.js";
import { show, type Value } from "../values.js";

/** `classes` when it is a positive integer. */
export function classCount(value: Value | undefined): number | undefined {
  return value?.t === "num" && Number.isInteger(value.v) && value.v >= 1 ? value.v : undefined;
}

/** `class_names` when it is a list of strings. */
export function classNameList(value: Value | undefined): string[] | undefined {
  if (value?.t !== "list" || value.items.some((i) => i.t !== "str")) return undefined;
  return value.items.map((i) => (i as { v: string }).v);
}

export const classNamesRule: NetworkSettingsRule = (context, network) => {
  const classes = network.local("classes");
  if (classes && classes.value.t !== "err" && classCount(classes.value) === undefined) {
    context.report("VN014", "error", `\`classes\` must be a positive integer, got ${show(classes.value)}`, classes.origin.file, classes.origin.range);
  }
  const names = network.local("class_names");
  if (!names || names.value.t === "err") return;
  const list = classNameList(names.value);
  if (!list) context.report("VN014", "error", "`class_names` must be a list of strings", names.origin.file, names.origin.range);
  else if (network.classes !== undefined && list.length !== network.classes) {
    context.report("VN015", "error", `\`class_names\` has ${list.length} names for ${network.classes} classes`, names.origin.file, names.origin.range);
  }
};
