/**
 * The VS Code client for vnet: starts `vnet lsp` over stdio and hands it the .vnet documents.
 * Every language feature lives in the server, so any LSP-capable editor gets the same behaviour.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { LanguageClient, TransportKind, type Executable, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

/** How to run the server: the configured path, else the workspace's local vnet, else `vnet` on the PATH. */
function serverExecutable(): Executable {
  const config = vscode.workspace.getConfiguration("vnet");
  const configured = config.get<string>("server.path", "").trim();
  const extraArgs = config.get<string[]>("server.extraArgs", []);
  const args = ["lsp", ...extraArgs];
  let command = configured;
  if (!command) {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const local = path.join(folder.uri.fsPath, "node_modules", ".bin", process.platform === "win32" ? "vnet.cmd" : "vnet");
      if (fs.existsSync(local)) {
        command = local;
        break;
      }
    }
  }
  if (!command) command = "vnet";
  // A path to bin/vnet.js runs under the user's Node, not VS Code's Electron.
  if (command.endsWith(".js")) return { command: "node", args: [command, ...args], transport: TransportKind.stdio };
  return { command, args, transport: TransportKind.stdio, options: { shell: process.platform === "win32" } };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const executable = serverExecutable();
  const serverOptions: ServerOptions = { run: executable, debug: executable };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "vnet" },
      { scheme: "untitled", language: "vnet" },
    ],
    // Imported files change on disk without being open: the server re-checks their importers.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.vnet") },
    initializationOptions: { debounceMs: vscode.workspace.getConfiguration("vnet").get<number>("diagnostics.debounceMs", 120) },
    outputChannelName: "vnet",
  };
  client = new LanguageClient("vnet", "vnet language server", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`vnet: cannot start \`${executable.command} lsp\` (${message}). Set "vnet.server.path" to your vnet executable.`);
  }
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("vnet.restartServer", async () => {
      await client?.stop();
      client = undefined;
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("vnet.server") || event.affectsConfiguration("vnet.diagnostics")) {
        await vscode.commands.executeCommand("vnet.restartServer");
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
