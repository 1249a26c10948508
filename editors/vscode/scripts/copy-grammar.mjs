// Copies the TextMate grammar and the language configuration from the repository's grammar/
// folder, which is their one source (the grammar is generated there by `npm run generate`).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const grammar = path.resolve(here, "../../grammar");
const copies = [
  ["vnet.tmLanguage.json", "syntaxes/vnet.tmLanguage.json"],
  ["language-configuration.json", "language-configuration.json"],
];
for (const [from, to] of copies) {
  const source = path.join(grammar, from);
  if (!fs.existsSync(source)) {
    console.error(`copy-grammar: ${source} is missing; run \`npm run generate\` in the repository root first`);
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(path.join(here, to)), { recursive: true });
  fs.copyFileSync(source, path.join(here, to));
  console.log(`copy-grammar: ${path.relative(here, source)} -> ${to}`);
}
