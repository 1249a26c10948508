/**
 * `vnet lsp`: the language server over stdio. A thin adapter: checking is `checkProgram` over a
 * host that serves open buffers; everything else reads the AST and the checked networks. Every
 * handler is guarded, so no input (half-written, binary, deleted, cyclic) ends the process.
 */
import {
  CodeActionKind,
  createConnection,
  DidChangeWatchedFilesNotification,
  ProposedFeatures,
  ResponseError,
  ErrorCodes,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import { quickFixes } from "./code-actions.js";
import { completionsAt } from "./completion.js";
import { diagnosticsFor } from "./diagnostics.js";
import { formatDocument } from "./format.js";
import { hoverAt } from "./hover.js";
import { definitionAt, prepareRename, RenameRefused, renameAt } from "./navigation.js";
import { documentSymbols } from "./outline.js";
import { lineIndexOf, toOffset } from "./positions.js";
import { Workspace } from "./workspace.js";

/**
 * Quiet time after the last edit before checking. Checking a 300-line spec takes ~30 ms, so a
 * short debounce keeps diagnostics within ~50 ms of an edit while still merging a burst of
 * keystrokes that arrive together; clients may raise it (`initializationOptions.debounceMs`).
 */
export const DEFAULT_DEBOUNCE_MS = 15;

/**
 * The quiet time before checking a document of `length` characters: the configured debounce, or
 * about a tenth of what checking it takes (checking runs at roughly 2 MB/s, so 1 ms per 2,000
 * characters), up to 2 s. A check holds the server until it ends, so typing in a file of
 * megabytes runs one check per pause rather than one per keystroke, and requests are answered
 * between them.
 */
export function debounceFor(length: number, configuredMs: number): number {
  return Math.max(configuredMs, Math.min(2000, Math.round(length / 2000)));
}

export interface ServerOptions {
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
}

/** Options a client may pass in `initializationOptions`. */
interface InitializationOptions {
  readonly debounceMs?: number;
}

/**
 * Starts the server on stdin/stdout (or the given streams). Resolves when the client closes the
 * connection; the library ends the process on the `exit` notification.
 */
export function startServer(options: ServerOptions = {}): Promise<number> {
  const connection = createConnection(ProposedFeatures.all, options.input ?? process.stdin, options.output ?? process.stdout);
  // stdout is the protocol channel: a stray console.log would corrupt it, so logs go to the client.
  const log = (message: string) => connection.console.log(message);
  const logError = (message: string) => connection.console.error(message);
  console.log = (...args: unknown[]) => log(args.map(String).join(" "));
  console.info = console.log;
  console.debug = console.log;
  console.warn = (...args: unknown[]) => logError(args.map(String).join(" "));
  console.error = console.warn;
  process.on("uncaughtException", (error) => logError(`vnet: unexpected error: ${error.stack ?? error.message}`));
  process.on("unhandledRejection", (reason) =>
    logError(`vnet: unexpected rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`),
  );

  const workspace = new Workspace(logError);
  const documents = new TextDocuments(TextDocument);
  const scheduler = new CheckScheduler(connection, workspace, logError);

  connection.onInitialize((params): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as InitializationOptions;
    if (typeof init.debounceMs === "number" && init.debounceMs >= 0) scheduler.debounceMs = init.debounceMs;
    scheduler.watchRegistration = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: [">", "(", ",", ".", "{", "=", '"'] },
        definitionProvider: true,
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        renameProvider: { prepareProvider: true },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: "vnet" },
    };
  });

  connection.onInitialized(() => {
    if (!scheduler.watchRegistration) return;
    // Imported files change on disk without being open: watch them so importers are re-checked.
    connection.client
      .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: "**/*.vnet" }] })
      .catch((error: unknown) => logError(`vnet: cannot watch files: ${String(error)}`));
  });

  documents.onDidChangeContent(
    guard("didChange", logError, (event) => {
      const file = workspace.setOpen(event.document.uri, event.document.getText(), event.document.version);
      scheduler.schedule(file);
    }),
  );
  documents.onDidClose(
    guard("didClose", logError, (event) => {
      const affected = workspace.dependentsOf(workspace.pathOf(event.document.uri));
      const file = workspace.close(event.document.uri);
      connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] });
      // Files this one imported lose the problems its check found in them; importers now read it from disk.
      for (const other of [...affected, ...workspace.openFiles()]) if (other !== file) scheduler.schedule(other);
    }),
  );
  connection.onDidChangeWatchedFiles(
    guard("didChangeWatchedFiles", logError, () => {
      for (const file of workspace.openFiles()) scheduler.schedule(file);
    }),
  );

  const position = (uri: string, pos: { line: number; character: number }) => {
    const file = workspace.pathOf(uri);
    const text = workspace.textOf(file);
    if (text === undefined) return undefined;
    return { file, text, offset: toOffset(lineIndexOf(text), pos) };
  };

  connection.onHover(
    guard(
      "hover",
      logError,
      (params) => {
        const at = position(params.textDocument.uri, params.position);
        return at ? hoverAt(workspace, at.file, at.offset) : null;
      },
      null,
    ),
  );
  connection.onCompletion(
    guard(
      "completion",
      logError,
      (params) => {
        const at = position(params.textDocument.uri, params.position);
        return at ? completionsAt(workspace, at.file, at.offset) : [];
      },
      [],
    ),
  );
  connection.onDefinition(
    guard(
      "definition",
      logError,
      (params) => {
        const at = position(params.textDocument.uri, params.position);
        return at ? definitionAt(workspace, at.file, at.offset) : [];
      },
      [],
    ),
  );
  connection.onDocumentSymbol(
    guard(
      "documentSymbol",
      logError,
      (params) => {
        const parsed = workspace.parsedOf(workspace.pathOf(params.textDocument.uri));
        return parsed ? documentSymbols(parsed.text, parsed.parse.ast) : [];
      },
      [],
    ),
  );
  connection.onCodeAction(
    guard(
      "codeAction",
      logError,
      (params) => {
        const text = workspace.textOf(workspace.pathOf(params.textDocument.uri));
        return text === undefined ? [] : quickFixes(params.textDocument.uri, text, params.context.diagnostics);
      },
      [],
    ),
  );
  connection.onPrepareRename((params) => {
    try {
      const at = position(params.textDocument.uri, params.position);
      return at ? prepareRename(workspace, at.file, at.offset) : null;
    } catch (error) {
      return refusal(error, logError);
    }
  });
  connection.onRenameRequest((params) => {
    try {
      const at = position(params.textDocument.uri, params.position);
      return at ? renameAt(workspace, at.file, at.offset, params.newName) : null;
    } catch (error) {
      return refusal(error, logError);
    }
  });
  connection.onDocumentFormatting(async (params) => {
    try {
      const file = workspace.pathOf(params.textDocument.uri);
      const text = workspace.textOf(file);
      return text === undefined ? [] : await formatDocument(text, file, log);
    } catch (error) {
      logError(`vnet: formatting failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return [];
    }
  });

  connection.onShutdown(() => scheduler.stop());
  documents.listen(connection);
  return new Promise<number>((resolve) => {
    connection.onExit(() => {
      scheduler.stop();
      resolve(0);
    });
    connection.listen();
  });
}

/** Wraps a handler so an exception is logged and answered with `fallback` instead of escaping. */
function guard<P, R>(name: string, logError: (m: string) => void, handler: (params: P) => R, fallback?: R): (params: P) => R {
  return (params: P) => {
    try {
      return handler(params);
    } catch (error) {
      logError(`vnet: ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return fallback as R;
    }
  };
}

function refusal(error: unknown, logError: (m: string) => void): ResponseError<void> {
  if (error instanceof RenameRefused) return new ResponseError(ErrorCodes.InvalidRequest, error.message);
  logError(`vnet: rename failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new ResponseError(ErrorCodes.InternalError, "rename failed; see the vnet output for details");
}

/**
 * Debounced checking. Edits mark files dirty (and every open file whose last check read them);
 * when the edits pause, each dirty file is checked once and every open file the checks touched
 * gets its diagnostics republished.
 */
class CheckScheduler {
  debounceMs = DEFAULT_DEBOUNCE_MS;
  watchRegistration = false;
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly workspace: Workspace,
    private readonly logError: (m: string) => void,
  ) {}

  schedule(file: string): void {
    for (const f of this.workspace.dependentsOf(file)) this.dirty.add(f);
    if (this.workspace.isOpen(file)) this.dirty.add(file);
    if (this.timer) clearTimeout(this.timer);
    const largest = [...this.dirty].reduce((most, f) => Math.max(most, this.workspace.textOf(f)?.length ?? 0), 0);
    this.timer = setTimeout(() => this.flush(), debounceFor(largest, this.debounceMs));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty.clear();
  }

  private flush(): void {
    this.timer = undefined;
    const files = [...this.dirty].filter((f) => this.workspace.isOpen(f));
    this.dirty.clear();
    const touched = new Set<string>();
    for (const file of files) {
      try {
        // Files the previous check read may have lost problems it found there: republish them too.
        const previous = this.workspace.allAnalyses().find((a) => a.file === file);
        for (const module of previous?.result.program.modules.keys() ?? []) if (this.workspace.isOpen(module)) touched.add(module);
        const analysis = this.workspace.analyze(file);
        touched.add(file);
        for (const module of analysis.result.program.modules.keys()) if (this.workspace.isOpen(module)) touched.add(module);
      } catch (error) {
        this.logError(`vnet: checking ${file} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }
    for (const file of touched) {
      try {
        this.connection.sendDiagnostics({ uri: this.workspace.uriOf(file), diagnostics: diagnosticsFor(file, this.workspace) });
      } catch (error) {
        this.logError(`vnet: publishing diagnostics for ${file} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }
  }
}
