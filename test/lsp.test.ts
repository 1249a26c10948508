/**
 * The language server, driven over stdio by a real LSP client (vscode-languageserver-protocol),
 * exactly as an editor drives `vnet lsp`. Cursor positions are marked inline in the test specs
 * with `¦` (removed before the text is sent).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  ExitNotification,
  FileChangeType,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PrepareRenameRequest,
  PublishDiagnosticsNotification,
  RenameRequest,
  ShutdownRequest,
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type DocumentSymbol,
  type Hover,
  type Location,
  type Position,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type TextEdit,
  type WorkspaceEdit,
  type CodeAction,
} from "vscode-languageserver-protocol/node.js";
import { LineIndex } from "../src/diagnostics/location.js";
import { formatSpec } from "../src/prettier/format.js";
import { ensureBuilt } from "./helpers.js";

const repo = path.resolve(__dirname, "..");
const CURSOR = "¦";

/** Removes the `¦` markers and returns the clean text with the marker positions (0-based LSP). */
function marked(source: string): { text: string; cursors: Position[] } {
  const offsets: number[] = [];
  let text = "";
  for (const part of source.split(CURSOR)) {
    text += part;
    offsets.push(text.length);
  }
  offsets.pop();
  const lines = new LineIndex(text);
  return {
    text,
    cursors: offsets.map((o) => {
      const p = lines.positionAt(o);
      return { line: p.line - 1, character: p.column - 1 };
    }),
  };
}

/** A client speaking LSP to a spawned `vnet lsp --stdio`. */
class Client {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  readonly logs: string[] = [];
  private readonly listeners = new Set<() => void>();
  private versions = new Map<string, number>();

  private constructor(
    readonly process: ChildProcess,
    readonly connection: ProtocolConnection,
  ) {
    connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      const list = this.diagnostics.get(params.uri) ?? [];
      list.push(params);
      this.diagnostics.set(params.uri, list);
      for (const l of this.listeners) l();
    });
    connection.onNotification(LogMessageNotification.type, (params) => this.logs.push(params.message));
  }

  static async start(rootDir: string): Promise<Client> {
    const child = spawn(process.execPath, [path.join(repo, "bin/vnet.js"), "lsp", "--stdio"], { cwd: rootDir, stdio: ["pipe", "pipe", "pipe"] });
    child.stderr!.on("data", () => {});
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.listen();
    const client = new Client(child, connection);
    await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(rootDir).href,
      capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } },
      workspaceFolders: null,
    });
    await connection.sendNotification(InitializedNotification.type, {});
    return client;
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async open(uri: string, text: string): Promise<void> {
    this.versions.set(uri, 1);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "vnet", version: 1, text } });
  }

  async change(uri: string, text: string): Promise<void> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  /** Waits for the next diagnostics for `uri` (published after this call) that satisfy `accept`. */
  nextDiagnostics(uri: string, accept: (d: Diagnostic[]) => boolean = () => true, timeoutMs = 5000): Promise<Diagnostic[]> {
    const seen = this.diagnostics.get(uri)?.length ?? 0;
    return new Promise((resolve, reject) => {
      const check = () => {
        const list = this.diagnostics.get(uri) ?? [];
        for (let i = seen; i < list.length; i++) {
          if (accept(list[i]!.diagnostics)) {
            this.listeners.delete(check);
            clearTimeout(timer);
            resolve(list[i]!.diagnostics);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(
            `no matching diagnostics for ${uri}; last: ${JSON.stringify(
              this.diagnostics
                .get(uri)
                ?.at(-1)
                ?.diagnostics.map((d) => d.code),
            )}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.process.once("exit", () => resolve()));
    await this.connection.sendRequest(ShutdownRequest.type);
    await this.connection.sendNotification(ExitNotification.type);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    this.connection.dispose();
    if (this.alive) this.process.kill();
  }
}

function items(result: CompletionItem[] | CompletionList | null): CompletionItem[] {
  if (!result) return [];
  return Array.isArray(result) ? result : result.items;
}

function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const lines = new LineIndex(text);
  const offset = (p: Position) => lines.offsetAt({ line: p.line + 1, column: p.character + 1 });
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}

const LIB = marked(`// Blocks shared by the test networks.

// The stem: one 3x3x3 conv with batch norm.
block ¦stem(width = 8) {
  input x
  output x -> conv3d(width, kernel = 3, pad = 1, bias = false) -> bn -> relu
}
`);

const MAIN = marked(`import { stem } from "./lib/bl¦ocks.vnet"

network tiny {
  classes = 5
  input video = clip(frames = 4, size = 16)
  stream rgb = video -> normalize(mean = [0.5], std = [0.5])
  x = rgb -> st¦em(8)
  y = x -> con¦v3d(16, kernel = 3, stride = [1, 2, 2], pad = 1) -> bn -> relu
  output y -> global_avg_pool -> dense(classes) as fc
  training { optimizer = "sgd", lr = 0.1 }
}
`);

let root: string;
let client: Client;
const uriOf = (rel: string) => pathToFileURL(path.join(root, rel)).href;

beforeAll(async () => {
  ensureBuilt();
  root = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-lsp-"));
  fs.writeFileSync(path.join(root, "vnet.json"), "{}\n");
  fs.mkdirSync(path.join(root, "lib"));
  fs.writeFileSync(path.join(root, "lib/blocks.vnet"), LIB.text);
  fs.writeFileSync(path.join(root, "main.vnet"), MAIN.text);
  client = await Client.start(root);
}, 60_000);

afterAll(async () => {
  await client?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe("vnet lsp", () => {
  it("publishes diagnostics with codes on open and on change", async () => {
    const uri = uriOf("main.vnet");
    const clean = client.nextDiagnostics(uri);
    await client.open(uri, MAIN.text);
    expect(await clean).toEqual([]);

    const broken = marked(MAIN.text.replace("-> bn -> relu\n  output", "-> bn -> ¦relux\n  output"));
    const published = client.nextDiagnostics(uri, (d) => d.length > 0);
    await client.change(uri, broken.text);
    const diagnostics = await published;
    const unknown = diagnostics.find((d) => d.code === "VN011");
    expect(unknown, JSON.stringify(diagnostics)).toBeDefined();
    expect(unknown!.source).toBe("vnet");
    expect(unknown!.range.start).toEqual(broken.cursors[0]);
    expect(unknown!.message).toContain("did you mean `relu`?");

    // The quick fix for the did-you-mean hint replaces exactly the diagnostic's range.
    const actions = (await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: unknown!.range,
      context: { diagnostics: [unknown!] },
    })) as CodeAction[];
    const fix = actions.find((a) => a.title.includes("relu"));
    expect(fix?.kind).toBe("quickfix");
    const edits = fix!.edit!.changes![uri]!;
    expect(applyEdits(broken.text, edits)).toBe(MAIN.text);

    const fixed = client.nextDiagnostics(uri, (d) => d.length === 0);
    await client.change(uri, MAIN.text);
    await fixed;
  });

  it("hovers a conv layer with its inferred shape, parameters and MACs", async () => {
    const uri = uriOf("main.vnet");
    const hover = (await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: MAIN.cursors[2]! })) as Hover;
    const value = (hover.contents as { value: string }).value;
    // [4, 16, 16, 8] -> stride [1, 2, 2], pad 1 -> [4, 8, 8, 16]; 8*16*27 weights + 16 bias.
    expect(value).toContain("[N, 4, 8, 8, 16]");
    expect(value).toContain("3,472");
    expect(value).toMatch(/MACs/);
    expect(value).toContain("3D convolution");
    expect(value).toContain("`kernel`");
  });

  it("hovers a network with its totals and activation memory", async () => {
    const uri = uriOf("main.vnet");
    const at = marked(MAIN.text.replace("network tiny", "network ti¦ny")).cursors[0]!;
    const hover = (await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: at })) as Hover;
    const value = (hover.contents as { value: string }).value;
    expect(value).toMatch(/trainable parameters/);
    // The same figures as `vnet summary` (src/semantics/memory.ts): the batch from the spec's default.
    expect(value).toMatch(/[\d.]+ KiB activations per clip \([\d.]+ KiB peak in inference\) · training ~[\d.]+ (KiB|MiB) at batch 8/);
  });

  it("hovers a block call and a stream with their definitions", async () => {
    const uri = uriOf("main.vnet");
    const block = (await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: MAIN.cursors[1]! })) as Hover;
    expect((block.contents as { value: string }).value).toContain("block stem(width = 8)");
    expect((block.contents as { value: string }).value).toContain("The stem: one 3x3x3 conv");
    const streamAt = marked(MAIN.text.replace("x = rgb", "x = r¦gb")).cursors[0]!;
    const stream = (await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: streamAt })) as Hover;
    expect((stream.contents as { value: string }).value).toContain("[N, 4, 16, 16, 3]");
  });

  it("completes operators, blocks and keywords at a stage, and parameters inside call parentheses", async () => {
    const uri = uriOf("scratch.vnet");
    const spec = marked(`import { stem } from "./lib/blocks.vnet"
network n {
  ¦
  input video = clip(¦)
  a = video -> ¦
  b = video -> conv3d(8, ¦)
  c = video -> maxpool3d(kernel = 2, pad = "¦")
  sampling { train { ¦ } }
}
`);
    await client.open(uri, spec.text);
    const at = async (i: number) =>
      items(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: spec.cursors[i]! })).map((c) => c.label);

    const statement = await at(0);
    expect(statement).toEqual(expect.arrayContaining(["input", "stream", "output", "sampling", "training", "classes"]));
    expect(statement).not.toContain("conv3d");
    expect(await at(1)).toEqual(expect.arrayContaining(["frames", "size", "channels"]));
    const stage = await at(2);
    expect(stage).toEqual(expect.arrayContaining(["conv3d", "relu", "global_avg_pool", "stem", "for"]));
    const params = await at(3);
    expect(params).toEqual(expect.arrayContaining(["kernel", "stride", "pad", "bias"]));
    expect(params).not.toContain("filters");
    expect(await at(4)).toEqual(expect.arrayContaining(["same", "valid"]));
    expect(await at(5)).toEqual(expect.arrayContaining(["stride", "crop", "flip"]));
    await client.close(uri);
  });

  it("goes to a block's definition across an import, and to the imported file", async () => {
    const uri = uriOf("main.vnet");
    const [block] = (await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: MAIN.cursors[1]! })) as Location[];
    expect(block!.uri).toBe(uriOf("lib/blocks.vnet"));
    expect(block!.range.start).toEqual(LIB.cursors[0]);
    const [file] = (await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: MAIN.cursors[0]! })) as Location[];
    expect(file!.uri).toBe(uriOf("lib/blocks.vnet"));
  });

  it("lists networks, blocks, streams and sections as document symbols", async () => {
    const symbols = (await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uriOf("main.vnet") } })) as DocumentSymbol[];
    const network = symbols.find((s) => s.name === "tiny")!;
    expect(network).toBeDefined();
    expect(network.children!.map((c) => c.name)).toEqual(expect.arrayContaining(["video", "rgb", "x", "y", "training"]));
    const lib = (await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uriOf("lib/blocks.vnet") } })) as DocumentSymbol[];
    expect(lib.map((s) => s.name)).toContain("stem");
  });

  it("renames a block across the files that import it", async () => {
    const libUri = uriOf("lib/blocks.vnet");
    const mainUri = uriOf("main.vnet");
    await client.open(libUri, LIB.text);
    const prepared = await client.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri: libUri }, position: LIB.cursors[0]! });
    expect(prepared).toBeTruthy();
    const edit = (await client.connection.sendRequest(RenameRequest.type, {
      textDocument: { uri: libUri },
      position: LIB.cursors[0]!,
      newName: "entry",
    })) as WorkspaceEdit;
    expect(applyEdits(LIB.text, edit.changes![libUri]!)).toContain("block entry(width = 8)");
    const main = applyEdits(MAIN.text, edit.changes![mainUri]!);
    expect(main).toContain('import { entry } from "./lib/blocks.vnet"');
    expect(main).toContain("x = rgb -> entry(8)");
    // Operators are not renameable.
    await expect(
      client.connection.sendRequest(RenameRequest.type, { textDocument: { uri: mainUri }, position: MAIN.cursors[2]!, newName: "c3" }),
    ).rejects.toThrow(/built-in operator/);
    await client.close(libUri);
  });

  it("formats through the prettier plugin: one edit giving exactly `vnet fmt`'s text, then no edits", async () => {
    const uri = uriOf("messy.vnet");
    const messy = "network   m {\n input video=clip(frames=4,size=16)\n output video->global_avg_pool   ->dense(3)\n}\n";
    await client.open(uri, messy);
    const edits = (await client.connection.sendRequest(DocumentFormattingRequest.type, {
      textDocument: { uri },
      options: { tabSize: 2, insertSpaces: true },
    })) as TextEdit[];
    expect(edits, client.logs.join("\n")).toHaveLength(1);
    const formatted = applyEdits(messy, edits);
    expect(formatted).toBe(await formatSpec(messy, { filepath: path.join(root, "messy.vnet"), resolveConfig: true }));
    expect(formatted).toContain("input video = clip(frames = 4, size = 16)");
    await client.change(uri, formatted);
    const again = (await client.connection.sendRequest(DocumentFormattingRequest.type, {
      textDocument: { uri },
      options: { tabSize: 2, insertSpaces: true },
    })) as TextEdit[];
    expect(again).toEqual([]);
    // A spec that does not parse is never reformatted.
    await client.change(uri, "network m { input video = \n");
    expect(await client.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })).toEqual(
      [],
    );
    await client.close(uri);
  });

  it("re-checks importers when an imported file changes, is deleted, or forms a cycle", async () => {
    const mainUri = uriOf("main.vnet");
    const libUri = uriOf("lib/blocks.vnet");
    // Editing the open library re-checks the open network that imports it.
    await client.open(libUri, LIB.text);
    const broken = client.nextDiagnostics(mainUri, (d) => d.some((x) => x.code === "VN034"));
    await client.change(libUri, LIB.text.replace("block stem(", "block stem2("));
    await broken;
    const healed = client.nextDiagnostics(mainUri, (d) => d.length === 0);
    await client.change(libUri, LIB.text);
    await healed;
    await client.close(libUri);

    // Deleting the library on disk: the importer reports the missing import.
    fs.rmSync(path.join(root, "lib/blocks.vnet"));
    const missing = client.nextDiagnostics(mainUri, (d) => d.some((x) => x.code === "VN031"));
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: libUri, type: FileChangeType.Deleted }] });
    await missing;

    // A file deleted while open stays checkable from its buffer.
    fs.writeFileSync(path.join(root, "gone.vnet"), MAIN.text);
    const goneUri = uriOf("gone.vnet");
    await client.open(goneUri, MAIN.text);
    fs.rmSync(path.join(root, "gone.vnet"));
    const stillChecked = client.nextDiagnostics(goneUri, (d) => d.some((x) => x.code === "VN031"));
    await client.change(goneUri, MAIN.text + "\n");
    await stillChecked;
    await client.close(goneUri);

    fs.writeFileSync(path.join(root, "lib/blocks.vnet"), LIB.text);
    const restored = client.nextDiagnostics(mainUri, (d) => d.length === 0);
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: libUri, type: FileChangeType.Created }] });
    await restored;

    // An import cycle being edited.
    const aUri = uriOf("a.vnet");
    const bUri = uriOf("b.vnet");
    fs.writeFileSync(path.join(root, "b.vnet"), 'import { a1 } from "./a.vnet"\nblock b1() {\n  input x\n  output x -> a1\n}\n');
    const cycle = client.nextDiagnostics(aUri, (d) => d.some((x) => x.code === "VN032"));
    await client.open(aUri, 'import { b1 } from "./b.vnet"\nblock a1() {\n  input x\n  output x -> b1\n}\n');
    await cycle;
    await client.open(bUri, fs.readFileSync(path.join(root, "b.vnet"), "utf8"));
    await client.change(bUri, "block b1() {\n  input x\n  output x -> relu\n}\n");
    await client.nextDiagnostics(aUri, (d) => !d.some((x) => x.code === "VN032"));
    await client.close(aUri);
    await client.close(bUri);
  });

  it("survives garbage, rapid edits and requests anywhere in broken text", async () => {
    const uri = uriOf("garbage.vnet");
    const junk = [
      "\u0000\u0001\u00ff binary \uFFFD",
      "network { { { ( ( [ [ -> -> = = ",
      "((((((((".repeat(40),
      'import { from "',
      "block b(",
      "network n { x = -> -> for i in { }",
      "/* unterminated",
      '"unterminated',
    ];
    await client.open(uri, "");
    for (const text of junk) await client.change(uri, text);
    // Rapid edits: only the last text matters, and it is checked.
    for (let i = 0; i < 40; i++) await client.change(uri, MAIN.text.slice(0, Math.floor((MAIN.text.length * i) / 40)));
    const final = client.nextDiagnostics(uri, (d) => d.some((x) => x.code === "VN016" || x.code === "VN034") || d.length === 0);
    await client.change(uri, MAIN.text);
    await final;
    // Every request at every position of half-written and garbage text answers without a fault.
    const samples = [MAIN.text.slice(0, 260), junk.join("\n"), 'network n {\n  sampling { train { crop = "\n  x = video -> conv3d(8, kernel = ['];
    for (const text of samples) {
      await client.change(uri, text);
      const lines = new LineIndex(text);
      for (let offset = 0; offset <= text.length; offset += 7) {
        const p = lines.positionAt(offset);
        const position = { line: p.line - 1, character: p.column - 1 };
        await Promise.all([
          client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position }),
          client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position }),
          client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position }),
          client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } }),
        ]);
      }
    }
    await client.close(uri);
    expect(client.alive).toBe(true);
    // Handlers are guarded, so a fault would only show in the log: there must be none (formatting
    // reports on the prettier plugin, which is tested on its own).
    expect(client.logs.filter((l) => /failed|unexpected/.test(l) && !/format/.test(l))).toEqual([]);
  });
});
