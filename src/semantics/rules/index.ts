/**
 * The rules, in the order the checker runs them (graphql-js's `specifiedRules`). Each file is one
 * check, named by its diagnostic code's name (`codes.ts`), with its own test under
 * test/semantics/rules/.
 */
import type { NetworkGraphRule, NetworkSettingsRule, ProgramRule } from "../context.js";
import { blockRecursionRule } from "./block-recursion.js";
import { boxRowsRule } from "./box-rows.js";
import { classNamesRule } from "./class-names.js";
import { countOutOfRangeRule } from "./count-out-of-range.js";
import { duplicateNameRule } from "./duplicate-name.js";
import { importCycleRule } from "./import-cycle.js";
import { importUnknownNameRule } from "./import-unknown-name.js";
import { networkStructureRule } from "./network-structure.js";
import { parameterDefaultsRule } from "./parameter-defaults.js";
import { samplingInconsistentRule } from "./sampling-inconsistent.js";
import { taskRule } from "./task.js";
import { taskContractRule } from "./task-contract.js";
import { unknownNameStaticRule } from "./unknown-name-static.js";
import { unusedBindingRule } from "./unused-binding.js";
import { unusedBlockRule } from "./unused-block.js";
import { unusedImportRule } from "./unused-import.js";
import { unusedParameterRule } from "./unused-parameter.js";
import { unusedStreamRule } from "./unused-stream.js";

/** Over the program's text, before any network is elaborated. */
export const DECLARATION_RULES: readonly ProgramRule[] = [importUnknownNameRule, importCycleRule, duplicateNameRule, parameterDefaultsRule, blockRecursionRule];

/** Over one network once its statements ran: its settings (`classes`, `task`, `sampling`). */
export const NETWORK_SETTINGS_RULES: readonly NetworkSettingsRule[] = [classNamesRule, taskRule, samplingInconsistentRule];

/** Over one network's finished graph (after inflation). */
export const NETWORK_GRAPH_RULES: readonly NetworkGraphRule[] = [networkStructureRule, countOutOfRangeRule, boxRowsRule, taskContractRule, unusedStreamRule];

/** Over the program once every network is elaborated: what elaboration did not reach or use. */
export const USAGE_RULES: readonly ProgramRule[] = [unknownNameStaticRule, unusedBlockRule, unusedImportRule, unusedBindingRule, unusedParameterRule];
