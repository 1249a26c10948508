/**
 * The elaborator: evaluates a network's statements, expands blocks and loops, resolves every
 * operator call against the catalogue and infers every shape. It reports and never throws;
 * a failed step yields a poison value so one mistake gives one diagnostic.
 */
import type { Diagnostic, Range, RelatedInformation } from "../diagnostics/diagnostic.js";
import type { Code } from "../diagnostics/codes.js";
import { FUNCTIONS, OPERATORS, isInferError, type Args, type InferError, type OpDef, type ParamSpec } from "../ops/catalogue.js";
import { describeTensor, formatShape, rankName, type ArgValue, type Shape } from "../ops/values.js";
import type * as A from "../syntax/ast.js";
import type { CheckedNetwork, Layer, NetworkInput, Origin, SectionValue } from "./network.js";
import type { Module, Program } from "./program.js";
import { SECTION_SCHEMAS, type Field, type Schema } from "./sections.js";
import { closest, didYouMean } from "./suggest.js";
import { ERR, containsError, show, toArg, typeName, type InputKind, type Value } from "./values.js";
import { inflateNetwork } from "./inflate.js";
import { DEFAULT_TASK, TASK_NAMES, taskContract, type TaskName } from "./tasks/index.js";

export const LIMITS = { layers: 100_000, iterations: 10_000, callDepth: 64 };

type Symbol =
  | { kind: "block"; decl: A.BlockDecl; module: Module }
  | { kind: "network"; decl: A.NetworkDecl; module: Module }
  | { kind: "const"; decl: A.Binding; index: number; module: Module };

interface VarBinding {
  value: Value;
  origin: Origin;
  kind: "binding" | "param" | "input" | "stream" | "loop";
  used: boolean;
  name: string;
}

class Scope {
  readonly vars = new Map<string, VarBinding>();
  constructor(
    readonly parent: Scope | undefined,
    readonly module: Module,
  ) {}

  lookup(name: string): VarBinding | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }

  names(): string[] {
    return [...this.vars.keys(), ...(this.parent?.names() ?? [])];
  }
}

class AbortElaboration extends Error {}

/** Per-module symbol table (top-level blocks, networks, constants, imported names). */
export class ModuleSymbols {
  readonly own = new Map<string, Symbol>();
  readonly imported = new Map<string, { symbol: Symbol | undefined; decl: A.Ident }>();
  readonly constValues = new Map<string, Value>();
  readonly evaluating = new Set<string>();
  readonly usedNames = new Set<string>();

  constructor(readonly module: Module) {
    module.ast.items.forEach((item, index) => {
      if (item.kind === "Block" && item.name.name) this.own.set(item.name.name, { kind: "block", decl: item, module });
      else if (item.kind === "Network" && item.name.name) this.own.set(item.name.name, { kind: "network", decl: item, module });
      else if (item.kind === "Binding") for (const n of item.names) if (n.name) this.own.set(n.name, { kind: "const", decl: item, index, module });
    });
  }

  resolve(name: string): Symbol | undefined {
    const own = this.own.get(name);
    if (own) return own;
    const imported = this.imported.get(name);
    if (imported) {
      this.usedNames.add(name);
      return imported.symbol;
    }
    return undefined;
  }
}

export class Checker {
  readonly diagnostics: Diagnostic[] = [];
  readonly symbols = new Map<string, ModuleSymbols>();
  /** Blocks that were expanded at least once (the rest are checked statically). */
  readonly expandedBlocks = new Set<A.BlockDecl>();
  readonly usedBlocks = new Set<A.BlockDecl>();
  readonly networks = new Map<A.NetworkDecl, CheckedNetwork | undefined>();
  private readonly networkInProgress = new Set<A.NetworkDecl>();

  constructor(
    readonly program: Program,
    /** An entry network to elaborate at other input shapes (`InputResize` of check.ts). */
    readonly resize?: { readonly network: string; readonly inputs: ReadonlyMap<string, readonly number[]> },
  ) {
    for (const module of program.modules.values()) this.symbols.set(module.file, new ModuleSymbols(module));
    for (const module of program.modules.values()) this.linkImports(module);
  }

  report(code: Code, severity: "error" | "warning", message: string, file: string, range: Range, extra: { hint?: string; related?: RelatedInformation[] } = {}): void {
    this.diagnostics.push({ code, severity, message, file, range, ...(extra.hint ? { hint: extra.hint } : {}), ...(extra.related?.length ? { related: extra.related } : {}) });
  }

  private linkImports(module: Module): void {
    const symbols = this.symbols.get(module.file)!;
    module.ast.items.forEach((item, index) => {
      if (item.kind !== "Import") return;
      const target = module.imports.get(index);
      const targetSymbols = target ? this.symbols.get(target) : undefined;
      for (const name of item.names) {
        if (!name.name) continue;
        if (!targetSymbols) {
          symbols.imported.set(name.name, { symbol: undefined, decl: name });
          continue;
        }
        const symbol = targetSymbols.own.get(name.name);
        if (!symbol) {
          this.report("VN034", "error", `\`${item.path.value}\` does not define \`${name.name}\``, module.file, name.range, {
            hint: didYouMean(name.name, targetSymbols.own.keys()) ?? `it defines: ${[...targetSymbols.own.keys()].join(", ") || "nothing"}`,
          });
        }
        symbols.imported.set(name.name, { symbol, decl: name });
      }
    });
  }

  /** Elaborates a network declaration (memoised; inflation may ask for a source network). */
  checkNetwork(decl: A.NetworkDecl, module: Module, overrides?: ReadonlyMap<string, Value>): CheckedNetwork | undefined {
    if (!overrides && this.networks.has(decl)) return this.networks.get(decl);
    if (this.networkInProgress.has(decl)) return undefined;
    this.networkInProgress.add(decl);
    try {
      const result = new NetworkElaborator(this, decl, module, overrides).run();
      if (!overrides) this.networks.set(decl, result);
      return result;
    } catch (error) {
      // Evaluation recurses over expressions; one nested past the stack is a spec limit, not a crash.
      if (!(error instanceof RangeError)) throw error;
      this.report("VN027", "error", `network \`${decl.name.name}\` holds an expression nested too deeply to evaluate`, module.file, decl.name.range, {
        hint: "split long expressions into named bindings",
      });
      if (!overrides) this.networks.set(decl, undefined);
      return undefined;
    } finally {
      this.networkInProgress.delete(decl);
    }
  }
}

interface StageContext {
  /** Inside a `stream` declaration: only data-pipeline operators. */
  readonly streamMode: boolean;
  /** Inside `per_frame(freeze = true)`. */
  readonly frozen: boolean;
  /** Set for the single call of a loop iteration: the layer or block is named by the iteration. */
  readonly iterationName?: string;
}

interface CallFrame {
  readonly block: A.BlockDecl;
  readonly file: string;
  readonly range: Range;
}

/** Builds the layers of one graph (a network, or a per_frame body) with hierarchical names. */
class GraphBuilder {
  readonly layers: Layer[] = [];
  private readonly path: string[] = [];
  private readonly used = new Map<string, Map<string, number>>();

  constructor(private readonly firstId: () => number) {}

  enter(name: string): void {
    this.path.push(name);
  }

  leave(): void {
    this.path.pop();
  }

  /** A name unique in the current scope: `conv3d`, `conv3d_2`, ... */
  uniqueName(base: string): string {
    const key = this.path.join(".");
    let counts = this.used.get(key);
    if (!counts) this.used.set(key, (counts = new Map()));
    const n = (counts.get(base) ?? 0) + 1;
    counts.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  }

  /** Claims an explicit name (an `as` alias); false when it is already taken in this scope. */
  claim(name: string): boolean {
    const key = this.path.join(".");
    let counts = this.used.get(key);
    if (!counts) this.used.set(key, (counts = new Map()));
    if (counts.has(name)) return false;
    counts.set(name, 1);
    return true;
  }

  fullName(local: string): string {
    return [...this.path, local].join(".");
  }

  add(layer: Omit<Layer, "id">): Layer {
    const full = { ...layer, id: this.firstId() } as Layer;
    this.layers.push(full);
    return full;
  }
}

class NetworkElaborator {
  private nextId = 0;
  private builder = new GraphBuilder(() => this.nextId++);
  private readonly callStack: CallFrame[] = [];
  private layerCount = 0;
  private readonly inputs: NetworkInput[] = [];
  private readonly sections: Record<string, Record<string, SectionValue>> = {};
  private readonly outputs: number[] = [];
  private readonly streamNames = new Map<number, string>();
  /** While elaborating a per_frame body: the clip's frame count (its frames are the body's batch). */
  private perFrameFrames: number | undefined;

  constructor(
    private readonly checker: Checker,
    private readonly decl: A.NetworkDecl,
    private readonly module: Module,
    private readonly overrides: ReadonlyMap<string, Value> | undefined,
  ) {}

  private report(code: Code, message: string, file: string, range: Range, extra: { hint?: string; severity?: "error" | "warning"; related?: RelatedInformation[] } = {}): void {
    // Inside a block expansion, point back at the call site that caused the problem.
    const frame = this.callStack[this.callStack.length - 1];
    const callSite = frame ? [{ message: `while expanding block \`${frame.block.name.name}\` here`, file: frame.file, range: frame.range }] : [];
    this.checker.report(code, extra.severity ?? "error", message, file, range, { ...(extra.hint ? { hint: extra.hint } : {}), related: [...(extra.related ?? []), ...callSite] });
  }

  run(): CheckedNetwork | undefined {
    const module = this.module;
    const scope = new Scope(undefined, module);
    const inflate = this.decl.body.find((s): s is A.InflateDecl => s.kind === "Inflate");
    try {
      for (const statement of this.decl.body) this.statement(statement, scope, "network");
    } catch (error) {
      if (!(error instanceof AbortElaboration)) throw error;
      return undefined;
    }
    const get = (name: string) => {
      const b = scope.vars.get(name);
      if (b) b.used = true;
      return b?.value;
    };
    const classesValue = get("classes");
    const classNames = get("class_names");
    const description = get("description");
    const taskValue = get("task");
    let task: TaskName = DEFAULT_TASK;
    if (taskValue && taskValue.t !== "err") {
      const b = scope.vars.get("task")!;
      if (taskValue.t !== "str") this.report("VN014", `\`task\` must be a string, got ${show(taskValue)}`, b.origin.file, b.origin.range, { hint: `tasks are: ${TASK_NAMES.join(", ")}` });
      else if (!(TASK_NAMES as readonly string[]).includes(taskValue.v)) {
        this.report("VN015", `unknown task ${show(taskValue)}`, b.origin.file, b.origin.range, { hint: didYouMean(taskValue.v, TASK_NAMES) ?? `tasks are: ${TASK_NAMES.join(", ")}` });
      } else task = taskValue.v as TaskName;
    }
    let classes: number | undefined;
    if (classesValue && classesValue.t !== "err") {
      const b = scope.vars.get("classes")!;
      if (classesValue.t !== "num" || !Number.isInteger(classesValue.v) || classesValue.v < 1) {
        this.report("VN014", `\`classes\` must be a positive integer, got ${show(classesValue)}`, b.origin.file, b.origin.range);
      } else classes = classesValue.v;
    }
    let names: string[] | undefined;
    if (classNames && classNames.t !== "err") {
      const b = scope.vars.get("class_names")!;
      if (classNames.t !== "list" || classNames.items.some((i) => i.t !== "str")) {
        this.report("VN014", "`class_names` must be a list of strings", b.origin.file, b.origin.range);
      } else {
        names = classNames.items.map((i) => (i as { v: string }).v);
        if (classes !== undefined && names.length !== classes) {
          this.report("VN015", `\`class_names\` has ${names.length} names for ${classes} classes`, b.origin.file, b.origin.range);
        }
      }
    }

    let layers = this.builder.layers;
    let outputs = this.outputs;
    let inflatedFrom: string | undefined;
    if (inflate) {
      const result = inflateNetwork(this.checker, {
        decl: this.decl,
        module,
        inflate,
        inputs: this.inputs,
        layers,
        classes,
        evaluate: (e) => this.expr(e, scope, { streamMode: false, frozen: false }),
      });
      if (!result) return undefined;
      layers = result.layers;
      outputs = result.outputs;
      inflatedFrom = inflate.source.name;
    }

    const inputCount = this.decl.body.filter((s) => s.kind === "Input").length;
    if (inputCount === 0) {
      this.report("VN062", `network \`${this.decl.name.name}\` has no input`, module.file, this.decl.name.range, { hint: "add `input video = clip(frames = 16, size = 112)`" });
    }
    // A failed output expression was already reported; only a missing `output` statement is news.
    if (!inflate && !this.decl.body.some((s) => s.kind === "Output")) {
      this.report("VN062", `network \`${this.decl.name.name}\` has no output`, module.file, this.decl.name.range, { hint: "end the network with `output x -> global_avg_pool -> dense(classes)`" });
    }
    const outputStatement = this.decl.body.find((s): s is A.OutputDecl => s.kind === "Output");

    // Model inputs: raw inputs and streams that model (non-stream) layers read.
    const readByModel = new Set<number>();
    const markReads = (ls: readonly Layer[]) => {
      for (const l of ls) if (!l.stream && l.op !== "input") for (const i of l.inputs) readByModel.add(i);
    };
    markReads(layers);
    const finalInputs = this.inputs.map((input) => ({ ...input, modelInput: readByModel.has(input.layer) }));
    for (const input of finalInputs) {
      if (input.kind === "stream" && !input.modelInput) {
        const streamDecl = this.decl.body.find((s): s is A.StreamDecl => s.kind === "Stream" && s.name.name === input.name);
        const used = scope.vars.get(input.name)?.used;
        if (streamDecl && !used) {
          this.report("VN040", `stream \`${input.name}\` is never used`, module.file, streamDecl.name.range, { severity: "warning", hint: "feed it to a layer or remove it" });
        }
      }
    }

    const network: CheckedNetwork = {
      name: this.decl.name.name,
      file: module.file,
      range: this.decl.range,
      ...(classes !== undefined ? { classes } : {}),
      ...(names ? { classNames: names } : {}),
      ...(description?.t === "str" ? { description: description.v } : {}),
      task,
      layers,
      inputs: finalInputs,
      outputs,
      sections: this.sections,
      ...(inflatedFrom ? { inflatedFrom } : {}),
    };
    // The task's contract holds the inputs and outputs (a failed output expression was already reported).
    if (outputs.length > 0 || inflate) {
      const outputRanges = outputs.map((_, i) => outputStatement?.values[i]?.range ?? outputStatement?.values[0]?.range ?? this.decl.name.range);
      taskContract(task).check(network, { name: this.decl.name.range, outputs: outputRanges }, (code, message, range, hint) => this.report(code, message, module.file, range, hint ? { hint } : {}));
    }
    return network;
  }

  // ---------------------------------------------------------------- statements

  private define(scope: Scope, name: A.Ident, value: Value, kind: VarBinding["kind"]): void {
    if (!name.name) return;
    const existing = scope.vars.get(name.name);
    if (existing) {
      this.report("VN016", `\`${name.name}\` is already defined in this scope`, scope.module.file, name.range, { hint: "bindings are immutable; pick a new name (e.g. `x2`)" });
      return;
    }
    scope.vars.set(name.name, { value, origin: { file: scope.module.file, range: name.range }, kind, used: false, name: name.name });
  }

  private statement(statement: A.Statement, scope: Scope, where: "network" | "block", blockInputs?: Value[], blockOutputs?: Value[][]): void {
    const file = scope.module.file;
    switch (statement.kind) {
      case "Input": {
        if (where === "block") {
          if (statement.value) this.report("VN002", "a block input takes no value: it is whatever is piped into the block", file, statement.value.range, { hint: "write `input x`" });
          const value = blockInputs?.shift() ?? ERR;
          this.define(scope, statement.name, value, "input");
          return;
        }
        if (!statement.value) {
          this.report("VN013", `network input \`${statement.name.name}\` needs a description`, file, statement.range, { hint: "`input video = clip(frames = 16, size = 112)`" });
          this.define(scope, statement.name, ERR, "input");
          return;
        }
        const desc = this.expr(statement.value, scope, { streamMode: false, frozen: false });
        if (desc.t === "err") {
          this.define(scope, statement.name, ERR, "input");
          return;
        }
        if (desc.t !== "input") {
          this.report("VN014", `an input is described by \`clip(...)\` or \`image(...)\`, got ${typeName(desc)}`, file, statement.value.range, { hint: "`input video = clip(frames = 16, size = 112)`" });
          this.define(scope, statement.name, ERR, "input");
          return;
        }
        const resized = this.checker.resize?.network === this.decl.name.name && this.checker.program.entries.includes(file) ? this.checker.resize.inputs.get(statement.name.name) : undefined;
        const shape = resized && resized.length === desc.shape.length ? resized : desc.shape;
        const layer = this.addLayer({ op: "input", name: statement.name.name, args: { kind: desc.kind }, inputs: [], shape, params: 0, state: 0, macs: 0, frozen: false, stream: false, origin: { file, range: statement.name.range } });
        this.inputs.push({ name: statement.name.name, layer: layer.id, shape, kind: "input", modelInput: false });
        this.define(scope, statement.name, this.tensorOf(layer), "input");
        return;
      }
      case "Stream": {
        if (where === "block") {
          this.report("VN062", "streams are declared in a network, not in a block", file, statement.range, { hint: "declare the stream in the network and pipe it into the block" });
          return;
        }
        this.builder.enter(statement.name.name || "stream");
        const value = this.expr(statement.value, scope, { streamMode: true, frozen: false });
        this.builder.leave();
        if (value.t === "tensor") {
          this.inputs.push({ name: statement.name.name, layer: value.id, shape: value.shape, kind: "stream", modelInput: false });
          this.streamNames.set(value.id, statement.name.name);
        } else if (value.t !== "err") {
          this.report("VN014", `a stream must be a tensor derived from an input, got ${typeName(value)}`, file, statement.value.range);
        }
        this.define(scope, statement.name, value.t === "tensor" ? { ...value, stream: true } : ERR, "stream");
        return;
      }
      case "Output": {
        const values = statement.values.map((v) => this.expr(v, scope, { streamMode: false, frozen: false }));
        if (where === "block") {
          blockOutputs?.push(values);
          return;
        }
        if (this.decl.body.some((s) => s.kind === "Inflate")) {
          this.report("VN062", "an inflated network takes its layers and output from its 2D source", file, statement.range, { hint: "remove this `output`" });
          return;
        }
        statement.values.forEach((v, i) => {
          const value = values[i]!;
          if (value.t === "tensor") this.outputs.push(value.id);
          else if (value.t !== "err") this.report("VN014", `a network output must be a tensor, got ${typeName(value)}`, file, v.range);
        });
        return;
      }
      case "Binding": {
        const override = where === "network" && statement.names.length === 1 ? this.overrides?.get(statement.names[0]!.name) : undefined;
        const value = override ?? this.expr(statement.value, scope, { streamMode: false, frozen: false });
        if (statement.names.length === 1) {
          this.define(scope, statement.names[0]!, value, "binding");
          return;
        }
        if (value.t !== "err" && (value.t !== "list" || value.items.length !== statement.names.length)) {
          this.report("VN014", `cannot unpack ${typeName(value)} into ${statement.names.length} names`, file, statement.value.range, { hint: "the right side must give exactly one value per name (a block with that many outputs)" });
        }
        statement.names.forEach((name, i) => this.define(scope, name, value.t === "list" ? (value.items[i] ?? ERR) : ERR, "binding"));
        return;
      }
      case "Section": {
        if (where === "block") {
          this.report("VN060", `sections such as \`${statement.name.name}\` belong in a network, not in a block`, file, statement.name.range);
          return;
        }
        const schema = SECTION_SCHEMAS[statement.name.name];
        if (!schema) {
          this.report("VN060", `unknown section \`${statement.name.name}\``, file, statement.name.range, { hint: didYouMean(statement.name.name, Object.keys(SECTION_SCHEMAS)) ?? `sections are: ${Object.keys(SECTION_SCHEMAS).join(", ")}` });
          return;
        }
        if (this.sections[statement.name.name]) {
          this.report("VN016", `section \`${statement.name.name}\` appears twice`, file, statement.name.range);
          return;
        }
        this.sections[statement.name.name] = this.section(statement, schema, scope);
        if (statement.name.name === "sampling") this.checkSampling(statement);
        return;
      }
      case "Inflate": {
        if (where === "block") this.report("VN062", "`inflate` belongs in a network", file, statement.range);
        return;
      }
    }
  }

  /** Validates a data section against its schema and fills in defaults. */
  section(section: A.Section, schema: Schema, scope: Scope): Record<string, SectionValue> {
    return validateSection(section, schema, (e) => this.expr(e, scope, { streamMode: false, frozen: false }), (code, message, range, hint) => this.report(code, message, scope.module.file, range, hint ? { hint } : {}));
  }

  private checkSampling(section: A.Section): void {
    const file = this.module.file;
    const sampling = this.sections.sampling as Record<string, Record<string, SectionValue>> | undefined;
    const train = sampling?.train;
    const input = this.inputs.find((i) => i.kind === "input");
    if (!train || !input) return;
    const trainAst = section.entries.find((e): e is A.Section => e.kind === "Section" && e.name.name === "train");
    const keyRange = (key: string) => trainAst?.entries.find((e) => e.kind === "Binding" && e.names[0]?.name === key)?.range ?? section.name.range;
    if (train.stride !== undefined && train.fps !== undefined) {
      this.report("VN061", "give either `stride` or `fps` for training clips, not both", file, keyRange("fps"));
    }
    if (input.shape.length === 4 && typeof train.frames === "number" && train.frames !== input.shape[0]) {
      this.report("VN061", `training clips have ${train.frames} frames but input \`${input.name}\` has ${input.shape[0]}`, file, keyRange("frames"), { hint: `set \`frames = ${input.shape[0]}\` or change the input` });
    }
    const [h, w] = input.shape.length === 4 ? [input.shape[1], input.shape[2]] : [input.shape[0], input.shape[1]];
    if (typeof train.crop === "number" && (train.crop !== h || train.crop !== w)) {
      this.report("VN061", `the training crop is ${train.crop} but input \`${input.name}\` is ${h}x${w}`, file, keyRange("crop"), { hint: "the input size is the crop size the network sees" });
    }
    if (Array.isArray(train.scale)) {
      const [lo, hi] = train.scale as number[];
      if (lo! > hi!) this.report("VN061", `scale range [${lo}, ${hi}] is reversed`, file, keyRange("scale"));
      if (typeof train.crop === "number" && lo! < train.crop) this.report("VN061", `scale ${lo} is smaller than the crop ${train.crop}`, file, keyRange("scale"), { hint: "the short side must be at least the crop size" });
    }
  }

  // ---------------------------------------------------------------- expressions

  private tensorOf(layer: Layer): Value {
    return { t: "tensor", id: layer.id, shape: layer.shape, origin: layer.origin, stream: layer.stream };
  }

  private addLayer(layer: Omit<Layer, "id">): Layer {
    if (++this.layerCount > LIMITS.layers) {
      this.report("VN027", `the network expands to more than ${LIMITS.layers} layers`, layer.origin.file, layer.origin.range, { hint: "check loop bounds" });
      throw new AbortElaboration();
    }
    return this.builder.add(layer);
  }

  private lookupName(name: string, range: Range, scope: Scope): Value {
    const local = scope.lookup(name);
    if (local) {
      local.used = true;
      return local.value;
    }
    const symbols = this.checker.symbols.get(scope.module.file)!;
    const symbol = symbols.resolve(name);
    if (symbol?.kind === "const") return this.constValue(symbol);
    if (symbol?.kind === "block" || symbol?.kind === "network") {
      this.report("VN014", `\`${name}\` is a ${symbol.kind}, not a value`, scope.module.file, range, { hint: symbol.kind === "block" ? `apply it with \`->\`: \`x -> ${name}(...)\`` : "a network is used through `inflate`" });
      return ERR;
    }
    if (!symbol && symbols.imported.has(name)) return ERR;
    const later = this.laterDefinition(name, range, scope);
    this.report("VN010", `unknown name \`${name}\``, scope.module.file, range, {
      hint: later ?? didYouMean(name, [...scope.names(), ...symbols.own.keys(), ...symbols.imported.keys()]) ?? (OPERATORS.has(name) ? `\`${name}\` is an operator: apply it with \`->\`` : undefined),
    });
    return ERR;
  }

  private laterDefinition(name: string, range: Range, scope: Scope): string | undefined {
    const body = this.decl.body;
    for (const s of body) {
      if ((s.kind === "Binding" && s.names.some((n) => n.name === name)) || ((s.kind === "Stream" || s.kind === "Input") && s.name.name === name)) {
        if (s.range.start > range.start && scope.module.file === this.module.file) return `\`${name}\` is defined later; statements run top to bottom, so move it up`;
      }
    }
    return undefined;
  }

  private constValue(symbol: Extract<Symbol, { kind: "const" }>): Value {
    const symbols = this.checker.symbols.get(symbol.module.file)!;
    const key = `${symbol.index}`;
    if (symbols.constValues.has(key)) return symbols.constValues.get(key)!;
    if (symbols.evaluating.has(key)) {
      this.report("VN030", `constant \`${symbol.decl.names.map((n) => n.name).join(", ")}\` is defined in terms of itself`, symbol.module.file, symbol.decl.range);
      return ERR;
    }
    symbols.evaluating.add(key);
    const scope = new Scope(undefined, symbol.module);
    let value = this.expr(symbol.decl.value, scope, { streamMode: false, frozen: false });
    if (value.t === "tensor") {
      this.report("VN014", "top-level constants hold numbers, strings, booleans or lists, not tensors", symbol.module.file, symbol.decl.value.range);
      value = ERR;
    }
    symbols.evaluating.delete(key);
    symbols.constValues.set(key, value);
    return value;
  }

  expr(expr: A.Expr, scope: Scope, ctx: StageContext): Value {
    const file = scope.module.file;
    switch (expr.kind) {
      case "Number":
        if (!Number.isFinite(expr.value)) {
          this.report("VN015", `number \`${expr.raw.slice(0, 30)}\` is too large`, file, expr.range);
          return ERR;
        }
        return { t: "num", v: expr.value };
      case "String":
        return { t: "str", v: expr.value };
      case "Bool":
        return { t: "bool", v: expr.value };
      case "Name":
        return this.lookupName(expr.name, expr.range, scope);
      case "Paren":
        return this.expr(expr.inner, scope, ctx);
      case "List":
        return { t: "list", items: expr.items.map((i) => this.expr(i, scope, ctx)) };
      case "Error":
        return ERR;
      case "If": {
        const cond = this.expr(expr.condition, scope, ctx);
        if (cond.t === "err") return ERR;
        if (cond.t !== "bool") {
          this.report("VN014", `the condition must be true or false, got ${typeName(cond)}`, file, expr.condition.range);
          return ERR;
        }
        return this.expr(cond.v ? expr.whenTrue : expr.whenFalse, scope, ctx);
      }
      case "Unary": {
        const v = this.expr(expr.operand, scope, ctx);
        if (v.t === "err") return ERR;
        if (expr.op === "-") {
          if (v.t !== "num") return this.typeError(`\`-\` needs a number, got ${typeName(v)}`, file, expr.operand.range);
          return { t: "num", v: -v.v };
        }
        if (v.t !== "bool") return this.typeError(`\`not\` needs true or false, got ${typeName(v)}`, file, expr.operand.range);
        return { t: "bool", v: !v.v };
      }
      case "Binary":
        return this.binary(expr, scope, ctx);
      case "Member": {
        const object = this.expr(expr.object, scope, ctx);
        if (object.t === "err") return ERR;
        return this.member(object, expr.member, file);
      }
      case "Index": {
        const object = this.expr(expr.object, scope, ctx);
        const index = this.expr(expr.index, scope, ctx);
        if (object.t === "err" || index.t === "err") return ERR;
        if (object.t !== "list") return this.typeError(`only lists can be indexed, got ${typeName(object)}`, file, expr.object.range);
        if (index.t !== "num" || !Number.isInteger(index.v)) return this.typeError(`a list index must be an integer, got ${typeName(index)}`, file, expr.index.range);
        const i = index.v < 0 ? object.items.length + index.v : index.v;
        if (i < 0 || i >= object.items.length) {
          this.report("VN015", `index ${index.v} is out of range for a list of ${object.items.length}`, file, expr.index.range);
          return ERR;
        }
        return object.items[i]!;
      }
      case "Call":
        return this.call(expr, scope, ctx);
      case "Chain": {
        let value = this.expr(expr.head, scope, ctx);
        for (const stage of expr.stages) value = this.stage(stage, value, scope, ctx);
        return value;
      }
    }
  }

  private typeError(message: string, file: string, range: Range, hint?: string): Value {
    this.report("VN014", message, file, range, hint ? { hint } : {});
    return ERR;
  }

  private member(object: Value, member: A.Ident, file: string): Value {
    const dims: Record<string, (shape: Shape) => number | undefined> = {
      channels: (s) => s[s.length - 1],
      frames: (s) => (s.length === 4 || s.length === 2 ? s[0] : undefined),
      height: (s) => (s.length === 4 ? s[1] : s.length === 3 ? s[0] : undefined),
      width: (s) => (s.length === 4 ? s[2] : s.length === 3 ? s[1] : undefined),
      rank: (s) => s.length + 1,
    };
    if (object.t === "tensor" || object.t === "input") {
      if (member.name === "shape") return { t: "list", items: object.shape.map((v) => ({ t: "num", v }) as Value) };
      const get = dims[member.name];
      if (!get) {
        this.report("VN010", `a tensor has no \`${member.name}\``, file, member.range, { hint: didYouMean(member.name, [...Object.keys(dims), "shape"]) ?? "use channels, frames, height, width, rank or shape" });
        return ERR;
      }
      const v = get(object.shape);
      if (v === undefined) {
        this.report("VN021", `${rankName(object.shape.length)} has no \`${member.name}\` axis`, file, member.range);
        return ERR;
      }
      return { t: "num", v };
    }
    this.report("VN014", `\`.${member.name}\` needs a tensor, got ${typeName(object)}`, file, member.range);
    return ERR;
  }

  private binary(expr: A.BinaryExpr, scope: Scope, ctx: StageContext): Value {
    const file = scope.module.file;
    const left = this.expr(expr.left, scope, ctx);
    if (expr.op === "and" || expr.op === "or") {
      if (left.t === "err") return ERR;
      if (left.t !== "bool") return this.typeError(`\`${expr.op}\` needs true or false, got ${typeName(left)}`, file, expr.left.range);
      if (expr.op === "and" && !left.v) return left;
      if (expr.op === "or" && left.v) return left;
      const right = this.expr(expr.right, scope, ctx);
      if (right.t === "err") return ERR;
      if (right.t !== "bool") return this.typeError(`\`${expr.op}\` needs true or false, got ${typeName(right)}`, file, expr.right.range);
      return right;
    }
    const right = this.expr(expr.right, scope, ctx);
    if (left.t === "err" || right.t === "err") return ERR;
    if (expr.op === "==" || expr.op === "!=") {
      const equal = show(left) === show(right) && left.t === right.t;
      return { t: "bool", v: expr.op === "==" ? equal : !equal };
    }
    if (left.t === "list" && right.t === "list" && expr.op === "+") return { t: "list", items: [...left.items, ...right.items] };
    if (left.t === "list" && right.t === "num" && expr.op === "*") {
      if (!Number.isInteger(right.v) || right.v < 0 || right.v * left.items.length > LIMITS.iterations) {
        this.report("VN015", `a list can be repeated a whole number of times (at most ${LIMITS.iterations} items), not ${right.v}`, file, expr.right.range);
        return ERR;
      }
      return { t: "list", items: Array.from({ length: right.v }, () => left.items).flat() };
    }
    if (left.t === "str" && right.t === "str" && expr.op === "+") return { t: "str", v: left.v + right.v };
    if (left.t === "str" && right.t === "str" && ["<", "<=", ">", ">="].includes(expr.op)) {
      return { t: "bool", v: compare(expr.op, left.v < right.v ? -1 : left.v > right.v ? 1 : 0) };
    }
    if (left.t !== "num" || right.t !== "num") {
      const bad = left.t !== "num" ? expr.left : expr.right;
      const badValue = left.t !== "num" ? left : right;
      return this.typeError(`\`${expr.op}\` needs numbers, got ${typeName(badValue)}`, file, bad.range, badValue.t === "tensor" ? "use `.channels`, `.frames`, `.height` or `.width` for a tensor's sizes" : undefined);
    }
    const a = left.v;
    const b = right.v;
    switch (expr.op) {
      case "+":
        return { t: "num", v: a + b };
      case "-":
        return { t: "num", v: a - b };
      case "*":
        return { t: "num", v: a * b };
      case "/":
      case "%":
        if (b === 0) {
          this.report("VN026", "division by zero", file, expr.right.range);
          return ERR;
        }
        return { t: "num", v: expr.op === "/" ? a / b : a - b * Math.floor(a / b) };
      case "**": {
        const v = a ** b;
        if (!Number.isFinite(v)) {
          this.report("VN015", `${a} ** ${b} is too large`, file, expr.range);
          return ERR;
        }
        return { t: "num", v };
      }
      default:
        return { t: "bool", v: compare(expr.op, a < b ? -1 : a > b ? 1 : 0) };
    }
  }

  private call(expr: A.CallExpr, scope: Scope, ctx: StageContext): Value {
    const file = scope.module.file;
    if (expr.callee.kind !== "Name") return this.typeError("only named functions can be called", file, expr.callee.range);
    const name = expr.callee.name;
    const fn = FUNCTIONS.get(name);
    if (!fn) {
      const symbols = this.checker.symbols.get(file)!;
      if (OPERATORS.has(name) || symbols.resolve(name)?.kind === "block") {
        return this.typeError(`\`${name}\` is applied to tensors with \`->\`, not called like a function`, file, expr.callee.range, `write \`x -> ${name}(...)\``);
      }
      this.report("VN011", `unknown function \`${name}\``, file, expr.callee.range, { hint: didYouMean(name, FUNCTIONS.keys()) ?? `functions are: ${[...FUNCTIONS.keys()].join(", ")}` });
      return ERR;
    }
    const positional: Value[] = [];
    const named = new Map<string, { value: Value; range: Range }>();
    for (const arg of expr.args) {
      const value = this.expr(arg.value, scope, ctx);
      if (arg.name) named.set(arg.name.name, { value, range: arg.name.range });
      else positional.push(value);
    }
    if ([...positional, ...[...named.values()].map((n) => n.value)].some(containsError)) return ERR;
    if (name === "clip" || name === "image" || name === "sequence") return this.inputDescription(name, positional, named, expr, file);
    if (named.size > 0) return this.typeError(`\`${name}\` takes no named arguments`, file, [...named.values()][0]!.range);
    let args = positional;
    if ((name === "min" || name === "max" || name === "sum" || name === "len") && args.length === 1 && args[0]!.t === "list") args = [...(args[0] as { items: readonly Value[] }).items];
    if (name === "len") {
      if (positional.length !== 1 || positional[0]!.t !== "list") return this.typeError("`len` takes one list", file, expr.range);
      return { t: "num", v: args.length };
    }
    if (args.length < fn.arity[0] || (name !== "sum" && name !== "min" && name !== "max" && args.length > fn.arity[1])) {
      return this.typeError(`\`${name}\` takes ${fn.arity[0] === fn.arity[1] ? fn.arity[0] : `${fn.arity[0]} to ${fn.arity[1]}`} argument(s), got ${args.length}`, file, expr.range);
    }
    const numbers: number[] = [];
    for (const a of args) {
      if (a.t !== "num") return this.typeError(`\`${name}\` needs numbers, got ${typeName(a)}`, file, expr.range);
      numbers.push(a.v);
    }
    const v =
      name === "floor" ? Math.floor(numbers[0]!) : name === "ceil" ? Math.ceil(numbers[0]!) : name === "round" ? Math.round(numbers[0]!) : name === "abs" ? Math.abs(numbers[0]!) : name === "min" ? Math.min(...numbers) : name === "max" ? Math.max(...numbers) : numbers.reduce((s, x) => s + x, 0);
    return { t: "num", v };
  }

  private inputDescription(name: InputKind, positional: Value[], named: Map<string, { value: Value; range: Range }>, expr: A.CallExpr, file: string): Value {
    const order = name === "clip" ? ["frames", "size", "channels"] : name === "sequence" ? ["length", "features"] : ["size", "channels"];
    const values = new Map<string, { value: Value; range: Range }>();
    positional.forEach((v, i) => {
      if (i < order.length) values.set(order[i]!, { value: v, range: expr.args[i]!.range });
    });
    if (positional.length > order.length) return this.typeError(`\`${name}\` takes at most ${order.length} positional arguments`, file, expr.range);
    for (const [k, v] of named) {
      if (!order.includes(k)) {
        this.report("VN012", `\`${name}\` has no parameter \`${k}\``, file, v.range, { hint: didYouMean(k, order) ?? `parameters: ${order.join(", ")}` });
        return ERR;
      }
      values.set(k, v);
    }
    const positiveInt = (key: string, fallback?: number): number | undefined => {
      const entry = values.get(key);
      if (!entry) {
        if (fallback === undefined) this.report("VN013", `\`${name}\` needs \`${key}\``, file, expr.range, { hint: name === "clip" ? "`clip(frames = 16, size = 112)`" : name === "sequence" ? "`sequence(length = 100, features = 400)`" : "`image(size = 224)`" });
        return fallback;
      }
      if (entry.value.t !== "num" || !Number.isInteger(entry.value.v) || entry.value.v < 1) {
        this.report("VN015", `\`${key}\` must be a positive integer, got ${show(entry.value)}`, file, entry.range);
        return undefined;
      }
      return entry.value.v;
    };
    if (name === "sequence") {
      const length = positiveInt("length");
      const features = positiveInt("features");
      if (length === undefined || features === undefined) return ERR;
      if (length * features > 2 ** 31 || length > 1 << 20 || features > 1 << 20) {
        this.report("VN015", `a sequence of ${length}x${features} is too large`, file, expr.range);
        return ERR;
      }
      return { t: "input", kind: name, shape: [length, features] };
    }
    const frames = name === "clip" ? positiveInt("frames") : 1;
    const channels = positiveInt("channels", 3);
    const sizeEntry = values.get("size");
    let hw: [number, number] | undefined;
    if (!sizeEntry) this.report("VN013", `\`${name}\` needs \`size\``, file, expr.range, { hint: "`size = 112` or `size = [h, w]`" });
    else if (sizeEntry.value.t === "num" && Number.isInteger(sizeEntry.value.v) && sizeEntry.value.v > 0) hw = [sizeEntry.value.v, sizeEntry.value.v];
    else if (sizeEntry.value.t === "list" && sizeEntry.value.items.length === 2 && sizeEntry.value.items.every((i) => i.t === "num" && Number.isInteger(i.v) && i.v > 0)) {
      hw = sizeEntry.value.items.map((i) => (i as { v: number }).v) as [number, number];
    } else this.report("VN015", `\`size\` must be a positive integer or [height, width], got ${show(sizeEntry.value)}`, file, sizeEntry.range);
    if (frames === undefined || channels === undefined || !hw) return ERR;
    const limit = 1 << 20;
    if (frames * hw[0] * hw[1] * channels > 2 ** 31 || frames > limit || hw[0] > limit || hw[1] > limit || channels > limit) {
      this.report("VN015", `input of ${frames}x${hw[0]}x${hw[1]}x${channels} is too large`, file, expr.range);
      return ERR;
    }
    return { t: "input", kind: name, shape: name === "clip" ? [frames, hw[0], hw[1], channels] : [hw[0], hw[1], channels] };
  }

  // ---------------------------------------------------------------- stages

  private stage(stage: A.Stage, input: Value, scope: Scope, stageCtx: StageContext): Value {
    const file = scope.module.file;
    const ctx = stageCtx;
    if (stage.kind === "ForStage") return this.forStage(stage, input, scope, ctx);
    const name = stage.callee.name;
    if (!name) return ERR;
    const op = OPERATORS.get(name);
    if (op) return this.opStage(op, stage, input, scope, ctx);
    const symbols = this.checker.symbols.get(file)!;
    const symbol = symbols.resolve(name);
    if (symbol?.kind === "block") return this.blockStage(symbol, stage, input, scope, ctx);
    if (!symbol && symbols.imported.has(name)) return ERR;
    if (symbol) {
      this.report("VN011", `\`${name}\` is a ${symbol.kind === "const" ? "constant" : symbol.kind}, not an operator or block`, file, stage.callee.range, symbol.kind === "network" ? { hint: "reuse a network's layers by writing them as a block" } : {});
      return ERR;
    }
    if (FUNCTIONS.has(name)) {
      this.report("VN011", `\`${name}\` is a function on numbers, not a layer`, file, stage.callee.range);
      return ERR;
    }
    const blocks = [...symbols.own.entries(), ...[...symbols.imported.entries()].map(([k, v]) => [k, v.symbol] as const)].filter(([, s]) => s?.kind === "block").map(([k]) => k);
    this.report("VN011", `unknown operator or block \`${name}\``, file, stage.callee.range, { hint: didYouMean(name, [...OPERATORS.keys(), ...blocks]) ?? "see `vnet ops` for the operator list" });
    return ERR;
  }

  private forStage(stage: A.ForStage, input: Value, scope: Scope, ctx: StageContext): Value {
    const file = scope.module.file;
    const from = this.expr(stage.from, scope, { streamMode: false, frozen: ctx.frozen });
    const to = this.expr(stage.to, scope, { streamMode: false, frozen: ctx.frozen });
    if (from.t === "err" || to.t === "err") return ERR;
    for (const [v, e] of [[from, stage.from], [to, stage.to]] as const) {
      if (v.t !== "num" || !Number.isInteger(v.v)) return this.typeError(`loop bounds must be integers, got ${typeName(v)}`, file, e.range);
    }
    const a = (from as { v: number }).v;
    const b = (to as { v: number }).v;
    if (b - a > LIMITS.iterations) {
      this.report("VN027", `the loop runs ${b - a} times; vnet allows ${LIMITS.iterations}`, file, stage.range);
      return ERR;
    }
    if (b < a) {
      this.report("VN015", `the range ${a}..${b} is reversed`, file, stage.range, { hint: "ranges count up and exclude the end: `0..4` is 0, 1, 2, 3" });
      return ERR;
    }
    let groupName: string;
    if (ctx.iterationName !== undefined) {
      groupName = ctx.iterationName;
      this.builder.claim(groupName);
    } else if (stage.alias) {
      groupName = stage.alias.name;
      if (!this.builder.claim(groupName)) this.report("VN016", `layer name \`${groupName}\` is already used here`, file, stage.alias.range);
    } else groupName = this.builder.uniqueName("stage");
    const inner: StageContext = { streamMode: ctx.streamMode, frozen: ctx.frozen };
    this.builder.enter(groupName);
    let value = input;
    for (let i = a; i < b && value.t !== "err"; i++) {
      const loopScope = new Scope(scope, scope.module);
      loopScope.vars.set(stage.variable.name, { value: { t: "num", v: i }, origin: { file, range: stage.variable.range }, kind: "loop", used: true, name: stage.variable.name });
      // A single unnamed call per iteration is named by the iteration number (`layer1.0.conv1`).
      const single = stage.body.length === 1 && stage.body[0]!.kind === "CallStage" && !stage.body[0]!.alias;
      if (single) {
        value = this.stage(stage.body[0]!, value, loopScope, { ...inner, iterationName: String(i) });
      } else {
        this.builder.enter(String(i));
        for (const s of stage.body) value = this.stage(s, value, loopScope, inner);
        this.builder.leave();
      }
    }
    this.builder.leave();
    return value;
  }

  private takeName(stage: A.CallStage, base: string, ctx: StageContext, file: string): string {
    const iteration = ctx.iterationName;
    if (iteration !== undefined) {
      this.builder.claim(iteration);
      return iteration;
    }
    if (stage.alias) {
      if (!this.builder.claim(stage.alias.name)) {
        this.report("VN016", `layer name \`${stage.alias.name}\` is already used here`, file, stage.alias.range, { hint: "names must be unique within a block or network" });
        return this.builder.uniqueName(stage.alias.name);
      }
      return stage.alias.name;
    }
    return this.builder.uniqueName(base);
  }

  private inputTensors(input: Value, expected: number | "many", what: string, file: string, range: Range): Extract<Value, { t: "tensor" }>[] | undefined {
    if (input.t === "err" || containsError(input)) return undefined;
    if (input.t === "tensor") {
      if (expected === 1) return [input];
      this.report("VN018", `\`${what}\` takes ${expected === "many" ? "two or more tensors" : `${expected} tensors`}, but one tensor flows in`, file, range, { hint: `gather them in a list: \`[a, b] -> ${what}\`` });
      return undefined;
    }
    if (input.t === "list" && input.items.every((i) => i.t === "tensor")) {
      const n = input.items.length;
      if ((expected === "many" && n >= 2) || expected === n) return input.items as Extract<Value, { t: "tensor" }>[];
      this.report("VN018", `\`${what}\` takes ${expected === "many" ? "two or more tensors" : expected === 1 ? "one tensor" : `${expected} tensors`}, but ${n} flow in`, file, range, expected === 1 ? { hint: "combine them first with `add`, `concat` or `lateral`" } : {});
      return undefined;
    }
    this.report("VN014", `\`${what}\` needs a tensor on its left, got ${typeName(input)}`, file, range, { hint: "the left side of `->` is an input, a stream or a layer's output" });
    return undefined;
  }

  private opStage(op: OpDef, stage: A.CallStage, input: Value, scope: Scope, ctx: StageContext): Value {
    const file = scope.module.file;
    if (ctx.streamMode && !op.streamOnly && !op.streamOk) {
      this.report("VN014", `\`${op.name}\` is a model layer; a stream only selects, normalises or computes flow from an input`, file, stage.callee.range, { hint: "declare the stream, then use it in a binding: `x = flow -> conv2d(...)`" });
      return ERR;
    }
    if (!ctx.streamMode && op.streamOnly) {
      this.report("VN014", `\`${op.name}\` runs in the data pipeline and must be declared as a stream`, file, stage.callee.range, { hint: `\`stream flow = video -> ${op.name}(...)\`` });
      return ERR;
    }
    const tensors = this.inputTensors(input, op.inputs, op.name, file, stage.callee.range);
    const args = this.resolveArgs(op.params, stage.args ?? [], scope, ctx, op.name, stage);
    if (!tensors || !args) return ERR;
    for (const t of tensors) {
      if (op.ranks && !op.ranks.includes(t.shape.length)) {
        const hint = op.name === "per_frame" || op.name === "stack_frames" || op.name === "frame" ? "it needs a clip [N, T, H, W, C]" : undefined;
        this.report("VN021", `\`${op.name}\` expects ${op.ranks.map(rankName).join(" or ")}, got ${describeTensor(t.shape)}`, file, stage.callee.range, hint ? { hint } : {});
        return ERR;
      }
    }
    if (op.body === "required" && !stage.body) {
      this.report("VN013", `\`${op.name}\` needs a body: \`${op.name} { conv2d(64, kernel = 3) -> relu }\``, file, stage.range);
      return ERR;
    }
    if (op.body !== "required" && stage.body) {
      this.report("VN002", `\`${op.name}\` takes no \`{ ... }\` body`, file, stage.range);
      return ERR;
    }
    const name = this.takeName(stage, op.name, ctx, file);
    const origin = { file, range: stage.range };
    if (op.name === "per_frame") return this.perFrame(stage, tensors[0]!, args, name, scope, ctx, origin);
    // Inside per_frame the frames are in the batch; an operator across frames needs their count.
    const fullArgs = op.acrossFrames && this.perFrameFrames !== undefined ? { ...args, frames_in_batch: this.perFrameFrames } : args;
    const shapes = tensors.map((t) => t.shape);
    const fail = (error: InferError): Value => {
      const argNode = error.arg ? (stage.args ?? []).find((a) => a.name?.name === error.arg) ?? positionalFor(op.params, stage.args ?? [], error.arg) : undefined;
      // At a fusion point, say where each mismatched input came from.
      const origins = error.code === "VN020" && tensors.length > 1 ? tensors.map((t, i) => ({ message: `input ${i + 1} ${formatShape(t.shape)} comes from here`, file: t.origin.file, range: t.origin.range })) : [];
      this.report(error.code as Code, error.error, file, argNode?.value.range ?? stage.callee.range, { ...(error.hint ? { hint: error.hint } : {}), related: origins });
      return ERR;
    };
    const build = (opName: string, layerName: string, layerArgs: Args): Value => {
      const inferred = OPERATORS.get(opName)!.infer(shapes, layerArgs);
      if (isInferError(inferred)) return fail(inferred);
      const layer = this.addLayer({
        op: opName,
        name: this.builder.fullName(layerName),
        args: layerArgs,
        inputs: tensors.map((t) => t.id),
        shape: inferred.shape,
        params: inferred.params,
        state: inferred.state ?? 0,
        macs: inferred.macs,
        frozen: ctx.frozen,
        stream: ctx.streamMode,
        origin,
      });
      return this.tensorOf(layer);
    };
    if (!op.expand) return build(op.aliasOf ?? op.name, name, fullArgs);
    // Sugar for several layers (split = slices): one per part, grouped under the call's name.
    const parts = op.expand(shapes, fullArgs);
    if (isInferError(parts)) return fail(parts);
    this.builder.enter(name);
    const items = parts.map((part, i) => build(part.op, String(i), part.args));
    this.builder.leave();
    return items.some((item) => item.t === "err") ? ERR : { t: "list", items };
  }

  private perFrame(stage: A.CallStage, input: Extract<Value, { t: "tensor" }>, args: Args, name: string, scope: Scope, ctx: StageContext, origin: Origin): Value {
    const [t, ...frameShape] = input.shape;
    const outer = this.builder;
    const inner = new GraphBuilder(() => this.nextId++);
    this.builder = inner;
    const frozen = ctx.frozen || args.freeze === true;
    const outerFrames = this.perFrameFrames;
    this.perFrameFrames = t;
    const frameInput = inner.add({ op: "input", name: "frame", args: {}, inputs: [], shape: frameShape, params: 0, state: 0, macs: 0, frozen, stream: false, origin });
    let value: Value = this.tensorOf(frameInput);
    try {
      for (const s of stage.body ?? []) value = this.stage(s, value, scope, { streamMode: ctx.streamMode, frozen });
    } finally {
      this.builder = outer;
      this.perFrameFrames = outerFrames;
    }
    if (value.t === "err") return ERR;
    if (value.t !== "tensor") {
      this.report("VN014", `the per_frame body must produce one tensor, got ${typeName(value)}`, origin.file, stage.range);
      return ERR;
    }
    const params = inner.layers.reduce((s, l) => s + l.params, 0);
    const state = inner.layers.reduce((s, l) => s + l.state, 0);
    const macs = inner.layers.reduce((s, l) => s + l.macs, 0) * t!;
    const layer = this.addLayer({
      op: "per_frame",
      name: this.builder.fullName(name),
      args: { ...args, output: value.id },
      inputs: [input.id],
      shape: [t!, ...value.shape],
      params,
      state,
      macs,
      frozen,
      stream: false,
      origin,
      body: inner.layers,
    });
    return this.tensorOf(layer);
  }

  private blockStage(symbol: Extract<Symbol, { kind: "block" }>, stage: A.CallStage, input: Value, scope: Scope, ctx: StageContext): Value {
    const block = symbol.decl;
    const callFile = scope.module.file;
    this.checker.usedBlocks.add(block);
    if (this.callStack.some((f) => f.block === block)) {
      // The static rule reports the cycle once at its declaration; stop expanding here.
      return ERR;
    }
    if (this.callStack.length >= LIMITS.callDepth) {
      this.report("VN027", `blocks nest more than ${LIMITS.callDepth} calls deep`, callFile, stage.range);
      return ERR;
    }
    if (stage.body) {
      this.report("VN002", `block \`${block.name.name}\` takes no \`{ ... }\` body`, callFile, stage.range);
      return ERR;
    }
    const inputCount = block.body.filter((s) => s.kind === "Input").length;
    const tensors = this.inputTensors(input, inputCount === 0 ? 1 : inputCount, block.name.name, callFile, stage.callee.range);
    const blockScope = new Scope(undefined, symbol.module);
    const bound = this.bindBlockArgs(block, symbol.module, stage, scope, blockScope, ctx);
    if (!tensors || !bound) return ERR;
    if (inputCount === 0) {
      this.report("VN062", `block \`${block.name.name}\` declares no \`input\``, symbol.module.file, block.name.range, { hint: "add `input x` as its first statement" });
      return ERR;
    }
    const name = this.takeName(stage, block.name.name, ctx, callFile);
    this.checker.expandedBlocks.add(block);
    this.callStack.push({ block, file: callFile, range: stage.range });
    this.builder.enter(name);
    const pending: Value[] = [...tensors];
    const outputs: Value[][] = [];
    try {
      for (const s of block.body) this.statement(s, blockScope, "block", pending, outputs);
    } finally {
      this.builder.leave();
      this.callStack.pop();
    }
    if (outputs.length === 0) {
      this.report("VN062", `block \`${block.name.name}\` has no \`output\``, symbol.module.file, block.name.range, { hint: "end the block with `output <expression>`" });
      return ERR;
    }
    if (outputs.length > 1) {
      this.report("VN016", `block \`${block.name.name}\` has more than one \`output\` statement`, symbol.module.file, block.name.range, { hint: "return several tensors from one statement: `output slow, fast`" });
    }
    const out = outputs[0]!;
    return out.length === 1 ? out[0]! : { t: "list", items: out };
  }

  private bindBlockArgs(block: A.BlockDecl, module: Module, stage: A.CallStage, callScope: Scope, blockScope: Scope, ctx: StageContext): boolean {
    const callFile = callScope.module.file;
    const args = stage.args ?? [];
    const params = block.params;
    let ok = true;
    const given = new Map<string, Value>();
    let positional = 0;
    for (const arg of args) {
      const value = this.expr(arg.value, callScope, { streamMode: false, frozen: ctx.frozen });
      if (arg.name) {
        if (!params.some((p) => p.name.name === arg.name!.name)) {
          this.report("VN012", `block \`${block.name.name}\` has no parameter \`${arg.name.name}\``, callFile, arg.name.range, { hint: didYouMean(arg.name.name, params.map((p) => p.name.name)) ?? `parameters: ${params.map((p) => p.name.name).join(", ") || "none"}` });
          ok = false;
          continue;
        }
        if (given.has(arg.name.name)) {
          this.report("VN016", `\`${arg.name.name}\` is given twice`, callFile, arg.name.range);
          ok = false;
          continue;
        }
        given.set(arg.name.name, value);
      } else {
        const param = params[positional++];
        if (!param) {
          this.report("VN017", `block \`${block.name.name}\` takes ${params.length} argument(s), got ${args.filter((a) => !a.name).length}`, callFile, arg.range, params.length ? { hint: `parameters in order: ${params.map((p) => p.name.name).join(", ")}` } : {});
          ok = false;
          continue;
        }
        given.set(param.name.name, value);
      }
      if (value.t === "tensor" || (value.t === "list" && value.items.some((i) => i.t === "tensor"))) {
        this.report("VN014", "tensors flow into a block with `->`, not as arguments", callFile, arg.range, { hint: "`[a, b] -> block(...)` passes two input tensors" });
        ok = false;
      }
    }
    for (const param of params) {
      let value = given.get(param.name.name);
      if (value === undefined) {
        if (!param.defaultValue) {
          this.report("VN013", `block \`${block.name.name}\` needs \`${param.name.name}\``, callFile, stage.callee.range, { hint: `pass it: \`${block.name.name}(${param.name.name} = ...)\`` });
          ok = false;
          value = ERR;
        } else value = this.expr(param.defaultValue, blockScope, { streamMode: false, frozen: ctx.frozen });
      }
      blockScope.vars.set(param.name.name, { value, origin: { file: module.file, range: param.name.range }, kind: "param", used: true, name: param.name.name });
    }
    return ok;
  }

  private resolveArgs(params: readonly ParamSpec[], args: readonly A.Argument[], scope: Scope, ctx: StageContext, opName: string, stage: A.CallStage): Args | undefined {
    const file = scope.module.file;
    const result: Record<string, ArgValue | undefined> = {};
    const seen = new Set<string>();
    // A misspelt parameter is reported once, not also as the missing parameter it meant.
    const suggested = new Set<string>();
    let ok = true;
    let positional = 0;
    for (const arg of args) {
      let spec: ParamSpec | undefined;
      if (arg.name) {
        spec = params.find((p) => p.name === arg.name!.name);
        if (!spec) {
          const guess = closest(arg.name.name, params.map((p) => p.name));
          if (guess) suggested.add(guess);
          this.report("VN012", `\`${opName}\` has no parameter \`${arg.name.name}\``, file, arg.name.range, {
            hint: guess ? `did you mean \`${guess}\`?` : params.length ? `parameters: ${params.map((p) => p.name).join(", ")}` : `\`${opName}\` takes no arguments`,
          });
          ok = false;
          continue;
        }
      } else {
        spec = params[positional++];
        if (!spec) {
          this.report("VN017", `\`${opName}\` takes ${params.length} positional argument(s), got ${args.filter((a) => !a.name).length}`, file, arg.range, params.length ? { hint: `parameters in order: ${params.map((p) => p.name).join(", ")}` } : {});
          ok = false;
          continue;
        }
      }
      if (seen.has(spec.name)) {
        this.report("VN016", `\`${spec.name}\` is given twice`, file, arg.range);
        ok = false;
        continue;
      }
      seen.add(spec.name);
      const value = this.expr(arg.value, scope, { streamMode: false, frozen: ctx.frozen });
      if (containsError(value)) {
        ok = false;
        continue;
      }
      const checked = checkArgument(spec, value);
      if (typeof checked === "object" && checked !== null && !Array.isArray(checked) && "problem" in checked) {
        this.report(checked.code, `\`${opName}\`: ${checked.problem}`, file, arg.value.range, checked.hint ? { hint: checked.hint } : {});
        ok = false;
        continue;
      }
      result[spec.name] = checked as ArgValue;
    }
    for (const spec of params) {
      if (seen.has(spec.name)) continue;
      if (spec.default === undefined) {
        ok = false;
        if (suggested.has(spec.name)) continue;
        this.report("VN013", `\`${opName}\` needs \`${spec.name}\` (${spec.doc.replace(/\.$/, "")})`, file, stage.callee.range, { hint: `\`${opName}(${params.filter((p) => p.default === undefined).map((p) => `${p.name} = ...`).join(", ")})\`` });
        ok = false;
      } else if (spec.default !== null) result[spec.name] = spec.default;
    }
    return ok ? result : undefined;
  }
}

function positionalFor(params: readonly ParamSpec[], args: readonly A.Argument[], name: string): A.Argument | undefined {
  const index = params.findIndex((p) => p.name === name);
  const positional = args.filter((a) => !a.name);
  return index >= 0 ? positional[index] : undefined;
}

function compare(op: string, c: number): boolean {
  switch (op) {
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    default:
      return c >= 0;
  }
}

type ArgProblem = { problem: string; code: "VN014" | "VN015"; hint?: string };

/** Checks one operator argument against its parameter type; returns the normalised value or a problem. */
export function checkArgument(spec: ParamSpec, value: Value): ArgValue | ArgProblem {
  const type = spec.type;
  const wrong = (expected: string, hint?: string): ArgProblem => ({ problem: `\`${spec.name}\` expects ${expected}, got ${show(value)}`, code: "VN014", ...(hint ? { hint } : {}) });
  const isInt = (v: Value): v is { t: "num"; v: number } => v.t === "num" && Number.isInteger(v.v);
  switch (type.kind) {
    case "int":
      if (!isInt(value)) return wrong("an integer", value.t === "num" ? "wrap the arithmetic in `floor(...)`" : undefined);
      if (type.min !== undefined && value.v < type.min) return { problem: `\`${spec.name}\` must be at least ${type.min}, got ${value.v}`, code: "VN015" };
      if (type.max !== undefined && value.v > type.max) return { problem: `\`${spec.name}\` must be at most ${type.max}, got ${value.v}`, code: "VN015" };
      if (value.v > 2 ** 31) return { problem: `\`${spec.name}\` = ${value.v} is too large`, code: "VN015" };
      return value.v;
    case "number":
      if (value.t !== "num") return wrong("a number");
      if (type.min !== undefined && (type.exclusiveMin ? value.v <= type.min : value.v < type.min)) return { problem: `\`${spec.name}\` must be ${type.exclusiveMin ? "greater than" : "at least"} ${type.min}, got ${value.v}`, code: "VN015" };
      if (type.max !== undefined && value.v > type.max) return { problem: `\`${spec.name}\` must be at most ${type.max}, got ${value.v}`, code: "VN015" };
      return value.v;
    case "bool":
      if (value.t !== "bool") return wrong("true or false");
      return value.v;
    case "enum":
      if (value.t !== "str") return wrong(`one of ${type.values.map((v) => `"${v}"`).join(", ")}`, value.t === "num" ? undefined : "enumerations are strings");
      if (!type.values.includes(value.v)) {
        const hint = didYouMean(value.v, type.values);
        return { problem: `\`${spec.name}\` must be one of ${type.values.map((v) => `"${v}"`).join(", ")}, got "${value.v}"`, code: "VN015", ...(hint ? { hint } : {}) };
      }
      return value.v;
    case "ints":
    case "padding": {
      if (type.kind === "padding" && value.t === "str") {
        if (value.v === "same" || value.v === "valid") return value.v;
        return { problem: `\`${spec.name}\` must be an integer, a list, "same" or "valid", got "${value.v}"`, code: "VN015", ...(didYouMean(value.v, ["same", "valid"]) ? { hint: didYouMean(value.v, ["same", "valid"])! } : {}) };
      }
      const min = type.kind === "ints" ? (type.min ?? 1) : 0;
      const items = value.t === "list" ? value.items : [value];
      const wanted = (type as { length?: number }).length;
      if (value.t === "list" && wanted !== undefined && items.length !== wanted) {
        const axes = type.length === 3 ? "[t, h, w]" : "[h, w]";
        return { problem: `\`${spec.name}\` needs one integer or ${type.length} integers ${axes}, got ${items.length}`, code: "VN015" };
      }
      for (const item of items) {
        if (!isInt(item)) return wrong(`an integer or a list of ${type.length} integers`);
        if (item.v < min) return { problem: `\`${spec.name}\` values must be at least ${min}, got ${item.v}`, code: "VN015" };
        if (item.v > 2 ** 20) return { problem: `\`${spec.name}\` = ${item.v} is too large`, code: "VN015" };
      }
      return value.t === "list" ? items.map((i) => (i as { v: number }).v) : (value as { v: number }).v;
    }
    case "numbers": {
      const items = value.t === "list" ? value.items : [value];
      if (items.length === 0 || items.some((i) => i.t !== "num")) return wrong("a number or a list of numbers");
      return items.map((i) => (i as { v: number }).v);
    }
    case "strings": {
      if (value.t !== "list" || value.items.some((i) => i.t !== "str")) return wrong("a list of strings");
      return value.items.map((i) => (i as { v: string }).v);
    }
  }
}

/** Validates a section's entries against its schema and fills in defaults. */
export function validateSection(
  section: A.Section,
  schema: Schema,
  evaluate: (e: A.Expr) => Value,
  report: (code: Code, message: string, range: Range, hint?: string) => void,
): Record<string, SectionValue> {
  const out: Record<string, SectionValue> = {};
  const seen = new Set<string>();
  for (const entry of section.entries) {
    const key = entry.kind === "Binding" ? entry.names[0]! : entry.name;
    if (!key.name) continue;
    const field: Field | undefined = schema[key.name];
    if (!field) {
      report("VN019", `\`${section.name.name}\` has no setting \`${key.name}\``, key.range, didYouMean(key.name, Object.keys(schema)) ?? `settings: ${Object.keys(schema).join(", ")}`);
      continue;
    }
    if (seen.has(key.name)) {
      report("VN016", `\`${key.name}\` is set twice`, key.range);
      continue;
    }
    seen.add(key.name);
    if (field.type.kind === "section") {
      if (entry.kind !== "Section") {
        report("VN014", `\`${key.name}\` is a section: write \`${key.name} { ... }\``, key.range);
        continue;
      }
      out[key.name] = validateSection(entry, field.type.fields, evaluate, report);
      continue;
    }
    if (entry.kind !== "Binding") {
      report("VN014", `\`${key.name}\` is a setting: write \`${key.name} = value\``, key.range);
      continue;
    }
    const value = evaluate(entry.value);
    if (containsError(value)) continue;
    const checked = checkArgument({ name: key.name, type: field.type as ParamSpec["type"], doc: field.doc }, value);
    if (typeof checked === "object" && checked !== null && !Array.isArray(checked) && "problem" in checked) {
      report(checked.code, checked.problem, entry.value.range, checked.hint);
      continue;
    }
    if (field.type.kind === "ints" && field.type.length === undefined && !Array.isArray(checked)) out[key.name] = [checked as number];
    else out[key.name] = checked as SectionValue;
  }
  for (const [key, field] of Object.entries(schema)) {
    if (seen.has(key)) continue;
    if (field.type.kind === "section") out[key] = validateSection({ kind: "Section", name: { kind: "Ident", name: key, range: section.range }, entries: [], range: section.range }, field.type.fields, evaluate, report);
    else if (field.default !== undefined) out[key] = field.default as SectionValue;
  }
  return out;
}

