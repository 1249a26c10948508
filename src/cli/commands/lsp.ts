/** `vnet lsp`: the language server over stdio, for editors. */
import { defineCommand } from "../command.js";

export const command = defineCommand({
  name: "lsp",
  usage: "lsp [--stdio]",
  description: "Runs the language server over stdin/stdout (diagnostics, hover, completion, go to definition, formatting).",
  positional: { names: "", min: 0, max: 0 },
  flags: {
    stdio: { type: "switch", doc: "talk over stdin/stdout (the only transport; editors pass it)" },
    // vscode-languageclient passes the editor's process id to servers it starts as node modules.
    clientProcessId: { type: "int", alias: "--clientProcessId", min: 0, doc: "the editor's process id (accepted for LSP clients that pass it)" },
  },
  async run() {
    // Loaded here: the other commands never pay for the language-server library.
    return (await import("../../lsp/server.js")).startServer();
  },
});
