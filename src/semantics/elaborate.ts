/**
 * The elaborator: runs a network's statements, expands blocks and loops, resolves every stage
 * against the operator catalogue or a block, infers every shape and names every layer. Names and
 * expressions are evaluated by `evaluate.ts`, arguments checked by `arguments.ts`, and the checks
 * over a whole network are the rules in `rules/`. It reports and never throws; a failed step
 * yields a poison value so one mistake gives one diagnostic.
 */
import type { Code } from "../diagnostics/codes.js";
import type { Range } from "../diagnostics/diagnostic.js";
import { FUNCTIONS, OPERATORS, isInferError, type Args, type InferError, type OpDef } from "../ops/catalogue.js";
import { describeTensor, formatShape, rankName } from "../ops/values.js";
import type * as A from "../syntax/ast.js";
import { bindBlockArguments, positionalFor, resolveOperatorArgs, validateSection } from "./arguments.js";
import { Budget, LIMITS, LimitReached } from "./budget.js";
import type { CheckContext, NetworkFacts } from "./context.js";
import { Env, Evaluator, PLAIN, valueContext, type EvaluationHost, type ReportOptions, type StageContext } from "./evaluate.js";
import { FREEZE_ARGUMENT, freezeByPatterns, freezePatterns } from "./freeze.js";
import { inflateNetwork } from "./inflate.js";
import type { CheckedNetwork, Layer, NetworkInput, Origin, SectionValue } from "./network.js";
import type { Module } from "./program.js";
import { classCount, classNameList } from "./rules/class-names.js";
import { NETWORK_GRAPH_RULES, NETWORK_SETTINGS_RULES } from "./rules/index.js";
import { taskOf } from "./rules/task.js";
import type { Definition } from "./scope.js";
import { SECTION_SCHEMAS, type Schema } from "./sections.js";
import { didYouMean, operatorIdeaHint } from "./suggest.js";
import { ERR, containsError, typeName, type LocalValue, type Value } from "./values.js";

/**
 * Elaborates a network declaration, memoised per declaration. `overrides` replaces network-level
 * bindings (inflation checks its 2D source with the 3D network's `classes`); such runs are not memoised.
 */
export function checkNetwork(context: CheckContext, decl: A.NetworkDecl, module: Module, overrides?: ReadonlyMap<string, Value>): CheckedNetwork | undefined {
  if (!overrides && context.networks.has(decl)) return context.networks.get(decl);
  if (context.networksInProgress.has(decl)) return undefined;
  context.networksInProgress.add(decl);
  try {
    const result = new NetworkElaborator(context, decl, module, overrides).run();
    if (!overrides) context.networks.set(decl, result);
    return result;
  } catch (error) {
    // Evaluation recurses over expressions; one nested past the stack is a spec limit, not a crash.
    if (!(error instanceof RangeError)) throw error;
    context.report("VN027", "error", `network \`${decl.name.name}\` holds an expression nested too deeply to evaluate`, module.file, decl.name.range, {
      hint: "split long expressions into named bindings",
    });
    if (!overrides) context.networks.set(decl, undefined);
    return undefined;
  } finally {
    context.networksInProgress.delete(decl);
  }
}

interface CallFrame {
  readonly block: A.BlockDecl;
  readonly file: string;
  readonly range: Range;
  /** The call's hierarchical name (`stage2.block1`): the prefix of the layers it makes. */
  readonly instance: string;
  /** The call was frozen (`freeze = true`, or inside a frozen call): so is every layer it makes. */
  readonly frozen: boolean;
}

/** Builds the layers of one graph (a network, or a per_frame body) with hierarchical names. */
class GraphBuilder {
  readonly layers: Layer[] = [];
  /** Each layer's name by id (a fusion note names its inputs without a scan). */
  readonly names = new Map<number, string>();
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
    const counts = this.counts();
    const n = (counts.get(base) ?? 0) + 1;
    counts.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  }

  /** Claims an explicit name (an `as` alias); false when it is already taken in this scope. */
  claim(name: string): boolean {
    const counts = this.counts();
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
    this.names.set(full.id, full.name);
    return full;
  }

  private counts(): Map<string, number> {
    const key = this.path.join(".");
    let counts = this.used.get(key);
    if (!counts) this.used.set(key, (counts = new Map()));
    return counts;
  }
}

class NetworkElaborator implements EvaluationHost {
  private nextId = 0;
  private builder = new GraphBuilder(() => this.nextId++);
  private readonly callStack: CallFrame[] = [];
  private layerCount = 0;
  private readonly inputs: NetworkInput[] = [];
  private readonly sections: Record<string, Record<string, SectionValue>> = {};
  private readonly outputs: number[] = [];
  private readonly evaluator = new Evaluator(this);
  readonly budget = new Budget((file, range) =>
    this.report(
      "VN027",
      `checking network \`${this.decl.name.name}\` takes more than ${LIMITS.work.toLocaleString("en-US")} steps of evaluation`,
      file,
      range,
      {
        hint: "vnet checks a spec within a fixed amount of work: look for lists, loops or blocks that grow with every step",
      },
    ),
  );
  /** While elaborating a per_frame body: the clip's frame count (its frames are the body's batch). */
  private perFrameFrames: number | undefined;

  constructor(
    readonly context: CheckContext,
    private readonly decl: A.NetworkDecl,
    private readonly module: Module,
    private readonly overrides: ReadonlyMap<string, Value> | undefined,
  ) {}

  report(code: Code, message: string, file: string, range: Range, options: ReportOptions = {}): void {
    // Inside a block expansion, name each call on the way, innermost first, at its call site: the
    // same block text is checked once per call, and the call's arguments decide what went wrong.
    const innermost = this.callStack.length - 1;
    const callSites = this.callStack
      .map((frame, i) => ({
        message: `${i === innermost && options.layer ? `in layer \`${options.layer}\` of` : "in"} block \`${frame.block.name.name}\` called as \`${frame.instance}\``,
        file: frame.file,
        range: frame.range,
      }))
      .reverse();
    this.context.report(code, options.severity ?? "error", message, file, range, {
      ...(options.hint ? { hint: options.hint } : {}),
      related: [...(options.related ?? []), ...callSites],
    });
  }

  private expr(expr: A.Expr, env: Env, ctx: StageContext): Value {
    return this.evaluator.expr(expr, env, ctx);
  }

  run(): CheckedNetwork | undefined {
    try {
      return this.elaborate();
    } catch (error) {
      // A limit was reached and reported; the network has no graph to check further.
      if (!(error instanceof LimitReached)) throw error;
      return undefined;
    }
  }

  private elaborate(): CheckedNetwork | undefined {
    const module = this.module;
    const scope = this.context.scopeOf(module.file);
    const env = new Env(module, scope, { container: this.decl, loops: [] });
    const inflate = this.decl.body.find((s): s is A.InflateDecl => s.kind === "Inflate");
    for (const statement of this.decl.body) this.statement(statement, env, "network");
    const networkLocal = (name: string): LocalValue | undefined => {
      const definition = scope.localsOf(this.decl).find((d) => d.name === name && d.kind !== "loop");
      return definition ? env.get(definition) : undefined;
    };
    const property = (name: string): Value | undefined => {
      const local = networkLocal(name);
      if (local) local.used = true;
      return local?.value;
    };
    const classes = classCount(property("classes"));
    const names = classNameList(property("class_names"));
    const description = property("description");
    const task = taskOf(property("task"));
    const facts: NetworkFacts = { decl: this.decl, module, inputs: this.inputs, sections: this.sections, classes, local: networkLocal };
    for (const rule of NETWORK_SETTINGS_RULES) rule(this.context, facts);

    let layers: readonly Layer[] = this.builder.layers;
    let outputs = this.outputs;
    let inflatedFrom: string | undefined;
    if (inflate) {
      const result = inflateNetwork({
        report: (code, message, range, hint) => this.context.report(code, "error", message, module.file, range, hint ? { hint } : {}),
        source: this.context.lookupTop(module.file, inflate.source.name),
        networksIn: () =>
          [...scope.topLevel.values(), ...[...scope.imports.keys()].map((name) => this.context.peekTop(module.file, name)?.definition)]
            .filter((d): d is Definition => d?.kind === "network")
            .map((d) => d.name),
        checkSource: (source, sourceModule, sourceOverrides) => checkNetwork(this.context, source, sourceModule, sourceOverrides),
        moduleOf: (file) => this.context.moduleOf(file),
        decl: this.decl,
        inflate,
        inputs: this.inputs,
        layers,
        classes,
        evaluate: (e) => this.expr(e, env, PLAIN),
      });
      if (!result) return undefined;
      layers = result.layers;
      outputs = result.outputs;
      inflatedFrom = inflate.source.name;
    }

    layers = freezeByPatterns(layers, this.sections.training ? freezePatterns(this.decl) : [], (message, range, hint) =>
      this.context.report("VN065", "error", message, module.file, range, { hint }),
    );

    // Model inputs: raw inputs and streams that model (non-stream) layers read.
    const readByModel = new Set<number>();
    for (const l of layers) if (!l.stream && l.op !== "input") for (const i of l.inputs) readByModel.add(i);
    const finalInputs = this.inputs.map((input) => ({ ...input, modelInput: readByModel.has(input.layer) }));
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
    for (const rule of NETWORK_GRAPH_RULES) rule(this.context, network, facts);
    return network;
  }

  // ---------------------------------------------------------------- statements

  /** Binds a declared name in this environment; a second declaration of a name is VN016. */
  private define(env: Env, name: A.Ident, value: Value, kind: LocalValue["kind"]): void {
    if (!name.name) return;
    if (env.binds(name.name)) {
      this.report("VN016", `\`${name.name}\` is already defined in this scope`, env.module.file, name.range, {
        hint: "bindings are immutable; pick a new name (e.g. `x2`)",
      });
      return;
    }
    const definition = env.scope.definitionOf(name);
    if (definition) env.bind(definition, { value, origin: { file: env.module.file, range: name.range }, kind, used: false, name: name.name });
  }

  private statement(statement: A.Statement, env: Env, where: "network" | "block", blockInputs?: Value[], blockOutputs?: Value[][]): void {
    const file = env.module.file;
    switch (statement.kind) {
      case "Input": {
        if (where === "block") {
          if (statement.value)
            this.report("VN002", "a block input takes no value: it is whatever is piped into the block", file, statement.value.range, {
              hint: "write `input x`",
            });
          const value = blockInputs?.shift() ?? ERR;
          this.define(env, statement.name, value, "input");
          return;
        }
        if (!statement.value) {
          this.report("VN013", `network input \`${statement.name.name}\` needs a description`, file, statement.range, {
            hint: "`input video = clip(frames = 16, size = 112)`",
          });
          this.define(env, statement.name, ERR, "input");
          return;
        }
        const desc = this.expr(statement.value, env, PLAIN);
        if (desc.t === "err") {
          this.define(env, statement.name, ERR, "input");
          return;
        }
        if (desc.t !== "input") {
          this.report("VN014", `an input is described by \`clip(...)\` or \`image(...)\`, got ${typeName(desc)}`, file, statement.value.range, {
            hint: "`input video = clip(frames = 16, size = 112)`",
          });
          this.define(env, statement.name, ERR, "input");
          return;
        }
        const resized =
          this.context.resize?.network === this.decl.name.name && this.context.program.entries.includes(file)
            ? this.context.resize.inputs.get(statement.name.name)
            : undefined;
        const shape = resized && resized.length === desc.shape.length ? resized : desc.shape;
        const layer = this.addLayer({
          op: "input",
          name: statement.name.name,
          args: { kind: desc.kind },
          inputs: [],
          shape,
          params: 0,
          state: 0,
          macs: 0,
          frozen: false,
          stream: false,
          origin: { file, range: statement.name.range },
        });
        this.inputs.push({ name: statement.name.name, layer: layer.id, shape, kind: "input", modelInput: false });
        this.define(env, statement.name, this.tensorOf(layer), "input");
        return;
      }
      case "Stream": {
        if (where === "block") {
          this.report("VN062", "streams are declared in a network, not in a block", file, statement.range, {
            hint: "declare the stream in the network and pipe it into the block",
          });
          // Poison, so the block's uses of the name stay silent.
          this.define(env, statement.name, ERR, "stream");
          return;
        }
        this.builder.enter(statement.name.name || "stream");
        const value = this.expr(statement.value, env, { streamMode: true, frozen: false });
        this.builder.leave();
        if (value.t === "tensor") {
          this.inputs.push({ name: statement.name.name, layer: value.id, shape: value.shape, kind: "stream", modelInput: false });
        } else if (value.t !== "err") {
          this.report("VN014", `a stream must be a tensor derived from an input, got ${typeName(value)}`, file, statement.value.range);
        }
        this.define(env, statement.name, value.t === "tensor" ? { ...value, stream: true } : ERR, "stream");
        return;
      }
      case "Output": {
        const values = statement.values.map((v) => this.expr(v, env, PLAIN));
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
        const value = override ?? this.expr(statement.value, env, PLAIN);
        if (statement.names.length === 1) {
          this.define(env, statement.names[0]!, value, "binding");
          return;
        }
        if (value.t !== "err" && (value.t !== "list" || value.items.length !== statement.names.length)) {
          this.report("VN014", `cannot unpack ${typeName(value)} into ${statement.names.length} names`, file, statement.value.range, {
            hint: "the right side must give exactly one value per name (a block with that many outputs)",
          });
        }
        statement.names.forEach((name, i) => this.define(env, name, value.t === "list" ? (value.items[i] ?? ERR) : ERR, "binding"));
        return;
      }
      case "Section": {
        if (where === "block") {
          this.report("VN060", `sections such as \`${statement.name.name}\` belong in a network, not in a block`, file, statement.name.range);
          return;
        }
        const schema = Object.hasOwn(SECTION_SCHEMAS, statement.name.name) ? SECTION_SCHEMAS[statement.name.name] : undefined;
        if (!schema) {
          this.report("VN060", `unknown section \`${statement.name.name}\``, file, statement.name.range, {
            hint: didYouMean(statement.name.name, Object.keys(SECTION_SCHEMAS)) ?? `sections are: ${Object.keys(SECTION_SCHEMAS).join(", ")}`,
          });
          return;
        }
        if (this.sections[statement.name.name]) {
          this.report("VN016", `section \`${statement.name.name}\` appears twice`, file, statement.name.range);
          return;
        }
        this.sections[statement.name.name] = this.section(statement, schema, env);
        return;
      }
      case "Inflate": {
        if (where === "block") this.report("VN062", "`inflate` belongs in a network", file, statement.range);
        return;
      }
    }
  }

  /** Validates a data section against its schema and fills in defaults. */
  private section(section: A.Section, schema: Schema, env: Env): Record<string, SectionValue> {
    return validateSection(
      section,
      schema,
      (e) => this.expr(e, env, PLAIN),
      (code, message, range, hint) => this.report(code, message, env.module.file, range, hint ? { hint } : {}),
    );
  }

  // ---------------------------------------------------------------- stages

  /** The hierarchical name of a layer of the graph being built (a fusion note names its inputs). */
  private layerName(id: number): string {
    return this.builder.names.get(id) ?? `#${id}`;
  }

  private tensorOf(layer: Layer): Value {
    return { t: "tensor", id: layer.id, shape: layer.shape, origin: layer.origin, stream: layer.stream };
  }

  private addLayer(layer: Omit<Layer, "id">): Layer {
    if (++this.layerCount > LIMITS.layers) {
      this.report("VN027", `the network expands to more than ${LIMITS.layers} layers`, layer.origin.file, layer.origin.range, { hint: "check loop bounds" });
      throw new LimitReached();
    }
    const frozen = layer.frozen || (this.callStack[this.callStack.length - 1]?.frozen ?? false);
    return this.builder.add(frozen === layer.frozen ? layer : { ...layer, frozen });
  }

  stage(stage: A.Stage, input: Value, env: Env, ctx: StageContext): Value {
    const file = env.module.file;
    if (stage.kind === "ForStage") return this.forStage(stage, input, env, ctx);
    const name = stage.callee.name;
    if (!name) return ERR;
    const op = OPERATORS.get(name);
    const found = op ? undefined : this.context.lookupTop(file, name);
    const symbol = found?.definition;
    // `freeze = true` on any call freezes what it makes, unless the callee has a `freeze` of its own.
    const ownFreeze = op
      ? op.params.some((p) => p.name === FREEZE_ARGUMENT)
      : symbol?.kind === "block" && (symbol.node as A.BlockDecl).params.some((p) => p.name.name === FREEZE_ARGUMENT);
    const freezeArg = ownFreeze ? undefined : stage.args?.find((a) => a.name?.name === FREEZE_ARGUMENT);
    if (freezeArg) {
      const value = this.expr(freezeArg.value, env, valueContext(ctx));
      if (value.t === "err") return ERR;
      if (value.t !== "bool") {
        this.report("VN014", `\`${FREEZE_ARGUMENT}\` expects true or false, got ${typeName(value)}`, file, freezeArg.value.range, {
          hint: "`freeze = true` keeps the weights of what this call makes fixed in training",
        });
        return ERR;
      }
      const rest = { ...stage, args: stage.args!.filter((a) => a !== freezeArg) };
      return this.stage(rest, input, env, { ...ctx, frozen: ctx.frozen || value.v });
    }
    if (op) return this.opStage(op, stage, input, env, ctx);
    // An import that did not resolve was reported at the import.
    if (found && !found.definition) return ERR;
    if (symbol?.kind === "block") return this.blockStage(symbol, stage, input, env, ctx);
    if (symbol) {
      this.report(
        "VN011",
        `\`${name}\` is a ${symbol.kind === "const" ? "constant" : symbol.kind}, not an operator or block`,
        file,
        stage.callee.range,
        symbol.kind === "network" ? { hint: "reuse a network's layers by writing them as a block" } : {},
      );
      return ERR;
    }
    if (FUNCTIONS.has(name)) {
      this.report("VN011", `\`${name}\` is a function on numbers, not a layer`, file, stage.callee.range);
      return ERR;
    }
    const scope = env.scope;
    const blocks = () => [
      ...[...scope.topLevel.values()].filter((d) => d.kind === "block").map((d) => d.name),
      ...[...scope.imports.keys()].filter((n) => this.context.peekTop(file, n)?.definition?.kind === "block"),
    ];
    this.report("VN011", `unknown operator or block \`${name}\``, file, stage.callee.range, {
      hint: operatorIdeaHint(name) ?? this.context.suggest(name, () => [...OPERATORS.keys(), ...blocks()]) ?? "see `vnet ops` for the operator list",
    });
    return ERR;
  }

  private forStage(stage: A.ForStage, input: Value, env: Env, ctx: StageContext): Value {
    const file = env.module.file;
    const from = this.expr(stage.from, env, valueContext(ctx));
    const to = this.expr(stage.to, env, valueContext(ctx));
    if (from.t === "err" || to.t === "err") return ERR;
    for (const [v, e] of [
      [from, stage.from],
      [to, stage.to],
    ] as const) {
      if (v.t !== "num" || !Number.isInteger(v.v)) return this.evaluator.typeError(`loop bounds must be integers, got ${typeName(v)}`, file, e.range);
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
    const variable = env.scope.definitionOf(stage.variable);
    this.builder.enter(groupName);
    let value = input;
    for (let i = a; i < b && value.t !== "err"; i++) {
      const loopEnv = env.loop(stage);
      if (variable)
        loopEnv.bind(variable, {
          value: { t: "num", v: i },
          origin: { file, range: stage.variable.range },
          kind: "loop",
          used: true,
          name: stage.variable.name,
        });
      // A single unnamed call per iteration is named by the iteration number (`layer1.0.conv1`).
      const single = stage.body.length === 1 && stage.body[0]!.kind === "CallStage" && !stage.body[0]!.alias;
      if (single) {
        value = this.stage(stage.body[0]!, value, loopEnv, { ...inner, iterationName: String(i) });
      } else {
        this.builder.enter(String(i));
        for (const s of stage.body) value = this.stage(s, value, loopEnv, inner);
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
        this.report("VN016", `layer name \`${stage.alias.name}\` is already used here`, file, stage.alias.range, {
          hint: "names must be unique within a block or network",
        });
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
      this.report("VN018", `\`${what}\` takes ${expected === "many" ? "two or more tensors" : `${expected} tensors`}, but one tensor flows in`, file, range, {
        hint: `gather them in a list: \`[a, b] -> ${what}\``,
      });
      return undefined;
    }
    if (input.t === "list" && input.items.every((i) => i.t === "tensor")) {
      const n = input.items.length;
      if ((expected === "many" && n >= 2) || expected === n) return input.items as Extract<Value, { t: "tensor" }>[];
      this.report(
        "VN018",
        `\`${what}\` takes ${expected === "many" ? "two or more tensors" : expected === 1 ? "one tensor" : `${expected} tensors`}, but ${n} flow in`,
        file,
        range,
        expected === 1 ? { hint: "combine them first with `add`, `concat` or `lateral`" } : {},
      );
      return undefined;
    }
    this.report("VN014", `\`${what}\` needs a tensor on its left, got ${typeName(input)}`, file, range, {
      hint: "the left side of `->` is an input, a stream or a layer's output",
    });
    return undefined;
  }

  private opStage(op: OpDef, stage: A.CallStage, input: Value, env: Env, ctx: StageContext): Value {
    const file = env.module.file;
    if (ctx.streamMode && !op.streamOnly && !op.streamOk) {
      this.report("VN014", `\`${op.name}\` is a model layer; a stream only selects, normalises or computes flow from an input`, file, stage.callee.range, {
        hint: "declare the stream, then use it in a binding: `x = flow -> conv2d(...)`",
      });
      return ERR;
    }
    if (!ctx.streamMode && op.streamOnly) {
      this.report("VN014", `\`${op.name}\` runs in the data pipeline and must be declared as a stream`, file, stage.callee.range, {
        hint: `\`stream flow = video -> ${op.name}(...)\``,
      });
      return ERR;
    }
    const tensors = this.inputTensors(input, op.inputs, op.name, file, stage.callee.range);
    const args = resolveOperatorArgs(
      op.name,
      op.params,
      stage,
      (e) => this.expr(e, env, valueContext(ctx)),
      (code, message, range, hint) => this.report(code, message, file, range, hint ? { hint } : {}),
    );
    if (!tensors || !args) return ERR;
    for (const t of tensors) {
      if (op.ranks && !op.ranks.includes(t.shape.length)) {
        const hint = op.name === "per_frame" || op.name === "stack_frames" || op.name === "frame" ? "it needs a clip [N, T, H, W, C]" : undefined;
        this.report(
          "VN021",
          `\`${op.name}\` expects ${op.ranks.map(rankName).join(" or ")}, got ${describeTensor(t.shape)}`,
          file,
          stage.callee.range,
          hint ? { hint } : {},
        );
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
    if (op.name === "per_frame") return this.perFrame(stage, tensors[0]!, args, name, env, ctx, origin);
    // Inside per_frame the frames are in the batch; an operator across frames needs their count.
    const fullArgs = op.acrossFrames && this.perFrameFrames !== undefined ? { ...args, frames_in_batch: this.perFrameFrames } : args;
    const shapes = tensors.map((t) => t.shape);
    const fail = (error: InferError, layer?: string): Value => {
      const argNode = error.arg
        ? ((stage.args ?? []).find((a) => a.name?.name === error.arg) ?? positionalFor(op.params, stage.args ?? [], error.arg))
        : undefined;
      // At a fusion point, say where each mismatched input came from.
      const origins =
        error.code === "VN020" && tensors.length > 1
          ? tensors.map((t, i) => ({
              message: `input ${i + 1} \`${this.layerName(t.id)}\` ${formatShape(t.shape)} comes from here`,
              file: t.origin.file,
              range: t.origin.range,
            }))
          : [];
      this.report(error.code as Code, error.error, file, argNode?.value.range ?? stage.callee.range, {
        ...(error.hint ? { hint: error.hint } : {}),
        ...(layer ? { layer } : {}),
        related: origins,
      });
      return ERR;
    };
    const build = (opName: string, layerName: string, layerArgs: Args): Value => {
      const fullName = this.builder.fullName(layerName);
      const inferred = OPERATORS.get(opName)!.infer(shapes, layerArgs);
      if (isInferError(inferred)) return fail(inferred, fullName);
      for (const warning of inferred.warnings ?? []) {
        const argNode = warning.arg
          ? ((stage.args ?? []).find((a) => a.name?.name === warning.arg) ?? positionalFor(op.params, stage.args ?? [], warning.arg))
          : undefined;
        this.report(warning.code, warning.message, file, argNode?.value.range ?? stage.callee.range, {
          severity: "warning",
          layer: fullName,
          ...(warning.hint ? { hint: warning.hint } : {}),
        });
      }
      const layer = this.addLayer({
        op: opName,
        name: fullName,
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

  private perFrame(stage: A.CallStage, input: Extract<Value, { t: "tensor" }>, args: Args, name: string, env: Env, ctx: StageContext, origin: Origin): Value {
    const [t, ...frameShape] = input.shape;
    const outer = this.builder;
    const inner = new GraphBuilder(() => this.nextId++);
    this.builder = inner;
    const frozen = ctx.frozen || args.freeze === true;
    const outerFrames = this.perFrameFrames;
    this.perFrameFrames = t;
    const frameInput = inner.add({
      op: "input",
      name: "frame",
      args: {},
      inputs: [],
      shape: frameShape,
      params: 0,
      state: 0,
      macs: 0,
      frozen,
      stream: false,
      origin,
    });
    let value: Value = this.tensorOf(frameInput);
    try {
      for (const s of stage.body ?? []) value = this.stage(s, value, env, { streamMode: ctx.streamMode, frozen });
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

  private blockStage(symbol: Definition, stage: A.CallStage, input: Value, env: Env, ctx: StageContext): Value {
    const block = symbol.node as A.BlockDecl;
    const blockModule = this.context.moduleOf(symbol.file);
    const callFile = env.module.file;
    this.context.usedBlocks.add(block);
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
    const blockScope = this.context.scopeOf(blockModule.file);
    const blockEnv = new Env(blockModule, blockScope, { container: block, loops: [] });
    const bound = bindBlockArguments(
      block,
      stage,
      (e) => this.expr(e, env, valueContext(ctx)),
      (e) => this.expr(e, blockEnv, valueContext(ctx)),
      (param, value) => {
        const definition = blockScope.definitionOf(param.name);
        if (definition)
          blockEnv.bind(definition, { value, origin: { file: blockModule.file, range: param.name.range }, kind: "param", used: true, name: param.name.name });
      },
      (code, message, range, hint) => this.report(code, message, callFile, range, hint ? { hint } : {}),
    );
    if (!tensors || !bound) return ERR;
    if (inputCount === 0) {
      this.report("VN062", `block \`${block.name.name}\` declares no \`input\``, blockModule.file, block.name.range, {
        hint: "add `input x` as its first statement",
      });
      return ERR;
    }
    const name = this.takeName(stage, block.name.name, ctx, callFile);
    this.context.expandedBlocks.add(block);
    this.callStack.push({
      block,
      file: callFile,
      range: stage.range,
      instance: this.builder.fullName(name),
      frozen: ctx.frozen || this.callStack.some((f) => f.frozen),
    });
    this.builder.enter(name);
    const pending: Value[] = [...tensors];
    const outputs: Value[][] = [];
    try {
      for (const s of block.body) this.statement(s, blockEnv, "block", pending, outputs);
    } finally {
      this.builder.leave();
      this.callStack.pop();
    }
    if (outputs.length === 0) {
      this.report("VN062", `block \`${block.name.name}\` has no \`output\``, blockModule.file, block.name.range, {
        hint: "end the block with `output <expression>`",
      });
      return ERR;
    }
    if (outputs.length > 1) {
      this.report("VN016", `block \`${block.name.name}\` has more than one \`output\` statement`, blockModule.file, block.name.range, {
        hint: "return several tensors from one statement: `output slow, fast`",
      });
    }
    // What the block returns comes, for the caller, from this call: a note at a fusion point then
    // points at the branch that made an input, not at the layer inside the block every branch shares.
    const out = outputs[0]!.map((value) => comingFrom(value, { file: callFile, range: stage.range }));
    return out.length === 1 ? out[0]! : { t: "list", items: out };
  }
}

/** A value with each of its tensors' origins set to `origin` (lists recursively). */
function comingFrom(value: Value, origin: Origin): Value {
  if (value.t === "tensor") return { ...value, origin };
  if (value.t === "list") return { t: "list", items: value.items.map((item) => comingFrom(item, origin)) };
  return value;
}
