/**
 * The vnet prettier plugin: `npx prettier --plugin ./dist/src/prettier/plugin.js spec.vnet`.
 * A thin adapter: parsing is `parseSpec` (refusing specs with parse errors), printing is in
 * print.ts, comment placement in comments.ts.
 */
import type { Parser, Plugin, Printer, SupportLanguage } from "prettier";
import { attachComment, printCommentText } from "./comments.js";
import { childKeys, isNode, locEnd, locStart, type PrettierComment, type VnetNode } from "./nodes.js";
import { parseForPrettier } from "./parse.js";
import { printVnet } from "./print.js";

export { VnetSyntaxError } from "./parse.js";

export const languages: SupportLanguage[] = [
  {
    name: "vnet",
    parsers: ["vnet"],
    extensions: [".vnet"],
    vscodeLanguageIds: ["vnet"],
  },
];

const vnetParser: Parser<VnetNode> = {
  parse: (text, options) => parseForPrettier(text, options.filepath ?? "<input>") as VnetNode,
  astFormat: "vnet-ast",
  locStart,
  locEnd,
};

export const parsers: Record<string, Parser<VnetNode>> = { vnet: vnetParser };

const vnetPrinter: Printer<VnetNode> = {
  print: printVnet,
  getVisitorKeys: (node) => [...childKeys(node)],
  canAttachComment: (node) => isNode(node),
  isBlockComment: (node) => (node as unknown as PrettierComment).block === true,
  printComment: (path) => printCommentText(path.node as unknown as PrettierComment),
  handleComments: { ownLine: attachComment, endOfLine: attachComment, remaining: attachComment },
  // Comments are printed by printVnet itself: chain stages need theirs around the `->`.
  willPrintOwnComments: () => true,
};

export const printers: Record<string, Printer<VnetNode>> = { "vnet-ast": vnetPrinter };

/** vnet's defaults for prettier's core options (prettier's own printWidth default is 80). */
export const defaultOptions: Plugin["defaultOptions"] = { printWidth: 100, tabWidth: 2, useTabs: false };

const plugin: Plugin<VnetNode> = { languages, parsers, printers, defaultOptions };
export default plugin;
