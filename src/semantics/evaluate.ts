/**
 * Expression evaluation: numbers, strings, booleans, lists, conditionals, arithmetic, the
 * built-in functions, tensor members and names. Names mean what the scope provider says they
 * mean; their values live in an environment per network, block expansion and loop iteration.
 * A `->` chain hands each stage to the elaborator. Evaluation reports and never throws; a failed
 * step yields the poison value `ERR`, so one mistake gives one diagnostic.
 */
import type { Code } from "../diagnostics/codes.js";
import type { Range, RelatedInformation } from "../diagnostics/diagnostic.js";
import { BOX_COLUMNS, FUNCTIONS, OPERATORS } from "../ops/catalogue.js";
import { rankName } from "../ops/values.js";
import type * as A from "../syntax/ast.js";
import { LIMITS, type Budget } from "./budget.js";
import type { CheckContext } from "./context.js";
import type { Module } from "./program.js";
import type { Definition, ModuleScope, Resolution, ScopeContext } from "./scope.js";
import { didYouMean } from "./suggest.js";
import { ERR, INPUT_FUNCTION_PARAMS, TENSOR_MEMBERS, containsError, sameValue, show, typeName, type InputKind, type LocalValue, type Value } from "./values.js";

/** How the stages of a chain are being elaborated. */
export interface StageContext {
  /** Inside a `stream` declaration: only data-pipeline operators. */
  readonly streamMode: boolean;
  /** Inside `per_frame(freeze = true)`. */
  readonly frozen: boolean;
  /** Set for the single call of a loop iteration: the layer or block is named by the iteration. */
  readonly iterationName?: string;
}

/** The context of expressions that are not stages (arguments, bounds, settings). */
export function valueContext(ctx: StageContext): StageContext {
  return { streamMode: false, frozen: ctx.frozen };
}

export const PLAIN: StageContext = { streamMode: false, frozen: false };

export interface ReportOptions {
  readonly hint?: string;
  readonly severity?: "error" | "warning";
  readonly related?: readonly RelatedInformation[];
  /** The hierarchical name of the layer the problem is in, when one was being built (`stage2.block1.conv2`). */
  readonly layer?: string;
}

/** What evaluation needs from the elaborator around it. */
export interface EvaluationHost {
  readonly context: CheckContext;
  /** The work budget of the network being checked. */
  readonly budget: Budget;
  /** Reports a problem (the elaborator adds the block call being expanded). */
  report(code: Code, message: string, file: string, range: Range, options?: ReportOptions): void;
  /** Applies one `->` stage to the value flowing into it. */
  stage(stage: A.Stage, input: Value, env: Env, ctx: StageContext): Value;
}

/**
 * The values of the locals in scope: those of one network or block expansion, or of one loop
 * iteration inside it (whose parent holds the rest).
 */
export class Env {
  private readonly values = new Map<Definition, LocalValue>();
  private readonly names = new Set<string>();

  constructor(
    readonly module: Module,
    readonly scope: ModuleScope,
    readonly context: ScopeContext,
    private readonly parent?: Env,
  ) {}

  /** The environment of one iteration of `stage`, a loop inside this environment. */
  loop(stage: A.ForStage): Env {
    return new Env(this.module, this.scope, { ...this.context, loops: [...this.context.loops, stage] }, this);
  }

  /** Whether this environment itself (not a parent) already binds a local called `name`. */
  binds(name: string): boolean {
    return this.names.has(name);
  }

  bind(definition: Definition, local: LocalValue): void {
    this.values.set(definition, local);
    this.names.add(definition.name);
  }

  get(definition: Definition): LocalValue | undefined {
    return this.values.get(definition) ?? this.parent?.get(definition);
  }
}

export class Evaluator {
  constructor(private readonly host: EvaluationHost) {}

  private report(code: Code, message: string, file: string, range: Range, options?: ReportOptions): void {
    this.host.report(code, message, file, range, options);
  }

  expr(expr: A.Expr, env: Env, ctx: StageContext): Value {
    const file = env.module.file;
    this.host.budget.spend(1, file, expr.range);
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
        return this.name(expr.name, expr.range, env);
      case "Paren":
        return this.expr(expr.inner, env, ctx);
      case "List":
        this.host.budget.spend(expr.items.length, file, expr.range);
        return { t: "list", items: expr.items.map((i) => this.expr(i, env, ctx)) };
      case "Error":
        return ERR;
      case "If": {
        const cond = this.expr(expr.condition, env, ctx);
        if (cond.t === "err") return ERR;
        if (cond.t !== "bool") {
          this.report("VN014", `the condition must be true or false, got ${typeName(cond)}`, file, expr.condition.range);
          return ERR;
        }
        return this.expr(cond.v ? expr.whenTrue : expr.whenFalse, env, ctx);
      }
      case "Unary": {
        const v = this.expr(expr.operand, env, ctx);
        if (v.t === "err") return ERR;
        if (expr.op === "-") {
          if (v.t !== "num") return this.typeError(`\`-\` needs a number, got ${typeName(v)}`, file, expr.operand.range);
          return { t: "num", v: -v.v };
        }
        if (v.t !== "bool") return this.typeError(`\`not\` needs true or false, got ${typeName(v)}`, file, expr.operand.range);
        return { t: "bool", v: !v.v };
      }
      case "Binary":
        return this.binary(expr, env, ctx);
      case "Member": {
        const object = this.expr(expr.object, env, ctx);
        if (object.t === "err") return ERR;
        return this.member(object, expr.member, file);
      }
      case "Index": {
        const object = this.expr(expr.object, env, ctx);
        const index = this.expr(expr.index, env, ctx);
        if (object.t === "err" || index.t === "err") return ERR;
        if (object.t !== "list") return this.typeError(`only lists can be indexed, got ${typeName(object)}`, file, expr.object.range);
        if (index.t !== "num" || !Number.isInteger(index.v))
          return this.typeError(`a list index must be an integer, got ${typeName(index)}`, file, expr.index.range);
        const i = index.v < 0 ? object.items.length + index.v : index.v;
        if (i < 0 || i >= object.items.length) {
          this.report("VN015", `index ${index.v} is out of range for a list of ${object.items.length}`, file, expr.index.range);
          return ERR;
        }
        return object.items[i]!;
      }
      case "Call":
        return this.call(expr, env, ctx);
      case "Chain": {
        let value = this.expr(expr.head, env, ctx);
        for (const stage of expr.stages) value = this.host.stage(stage, value, env, ctx);
        return value;
      }
    }
  }

  typeError(message: string, file: string, range: Range, hint?: string): Value {
    this.report("VN014", message, file, range, hint ? { hint } : {});
    return ERR;
  }

  /** The value of a name, as the scope provider resolves it. */
  private name(name: string, range: Range, env: Env): Value {
    const file = env.module.file;
    const resolution = env.scope.resolve(name, range.start, env.context);
    if (resolution?.kind === "local") {
      const local = env.get(resolution.definition);
      if (local) {
        local.used = true;
        return local.value;
      }
    }
    if (resolution?.kind === "top" || resolution?.kind === "import") {
      const definition = this.host.context.lookupTop(file, name)?.definition;
      // An import that did not resolve was reported at the import.
      if (!definition) return ERR;
      if (definition.kind === "const") return this.constant(definition);
      this.report("VN014", `\`${name}\` is a ${definition.kind}, not a value`, file, range, {
        hint: definition.kind === "block" ? `apply it with \`->\`: \`x -> ${name}(...)\`` : "a network is used through `inflate`",
      });
      return ERR;
    }
    const hint = unknownNameHint(this.host.context, env.scope, name, range.start, env.context, resolution);
    this.report("VN010", `unknown name \`${name}\``, file, range, hint ? { hint } : {});
    return ERR;
  }

  /** A top-level constant's value, evaluated once in its own file. */
  private constant(definition: Definition): Value {
    const context = this.host.context;
    const decl = definition.node as A.Binding;
    const known = context.constants.get(decl);
    if (known) return known;
    if (context.constantsInProgress.has(decl)) {
      this.report("VN030", `constant \`${decl.names.map((n) => n.name).join(", ")}\` is defined in terms of itself`, definition.file, decl.range);
      return ERR;
    }
    context.constantsInProgress.add(decl);
    const module = context.moduleOf(definition.file);
    let value = this.expr(decl.value, new Env(module, context.scopeOf(module.file), { loops: [] }), PLAIN);
    if (value.t === "tensor") {
      this.report("VN014", "top-level constants hold numbers, strings, booleans or lists, not tensors", definition.file, decl.value.range);
      value = ERR;
    }
    context.constantsInProgress.delete(decl);
    context.constants.set(decl, value);
    return value;
  }

  private member(object: Value, member: A.Ident, file: string): Value {
    if (object.t === "tensor" || object.t === "input") {
      if (member.name === "shape") return { t: "list", items: object.shape.map((v) => ({ t: "num", v }) as Value) };
      const entry = Object.hasOwn(TENSOR_MEMBERS, member.name) ? TENSOR_MEMBERS[member.name] : undefined;
      if (!entry) {
        const names = Object.keys(TENSOR_MEMBERS);
        this.report("VN010", `a tensor has no \`${member.name}\``, file, member.range, {
          hint: didYouMean(member.name, [...names, "shape"]) ?? `use ${names.join(", ")} or shape`,
        });
        return ERR;
      }
      const v = entry.read(object.shape);
      if (v === undefined) {
        this.report("VN021", `${rankName(object.shape.length)} has no \`${member.name}\` axis`, file, member.range);
        return ERR;
      }
      return { t: "num", v };
    }
    this.report("VN014", `\`.${member.name}\` needs a tensor, got ${typeName(object)}`, file, member.range);
    return ERR;
  }

  /**
   * A run of binary operators `a + b - c ...` is a left-deep tree as deep as it is long: its left
   * spine is walked in a loop, so a sum of a million terms costs no stack, only budget.
   */
  private binary(expr: A.BinaryExpr, env: Env, ctx: StageContext): Value {
    const spine: A.BinaryExpr[] = [expr];
    let innermost: A.Expr = expr.left;
    while (innermost.kind === "Binary") {
      spine.push(innermost);
      innermost = innermost.left;
    }
    let value = this.expr(innermost, env, ctx);
    for (let i = spine.length - 1; i >= 0; i--) {
      const node = spine[i]!;
      // The outermost node was charged by `expr`; the spine's others are charged here.
      if (i > 0) this.host.budget.spend(1, env.module.file, node.range);
      value = this.combine(node, value, env, ctx);
    }
    return value;
  }

  /** Applies `expr`'s operator to its left operand's value `left` and its right operand. */
  private combine(expr: A.BinaryExpr, left: Value, env: Env, ctx: StageContext): Value {
    const file = env.module.file;
    if (expr.op === "and" || expr.op === "or") {
      if (left.t === "err") return ERR;
      if (left.t !== "bool") return this.typeError(`\`${expr.op}\` needs true or false, got ${typeName(left)}`, file, expr.left.range);
      if (expr.op === "and" && !left.v) return left;
      if (expr.op === "or" && left.v) return left;
      const right = this.expr(expr.right, env, ctx);
      if (right.t === "err") return ERR;
      if (right.t !== "bool") return this.typeError(`\`${expr.op}\` needs true or false, got ${typeName(right)}`, file, expr.right.range);
      return right;
    }
    const right = this.expr(expr.right, env, ctx);
    if (left.t === "err" || right.t === "err") return ERR;
    const spend = (units: number) => this.host.budget.spend(units, file, expr.range);
    if (expr.op === "==" || expr.op === "!=") {
      const equal = sameValue(left, right, spend);
      return { t: "bool", v: expr.op === "==" ? equal : !equal };
    }
    if (left.t === "list" && right.t === "list" && expr.op === "+") {
      const length = left.items.length + right.items.length;
      if (length > LIMITS.listItems) {
        this.report("VN015", `this \`+\` makes a list of ${length} items; a computed list holds at most ${LIMITS.listItems}`, file, expr.range, {
          hint: "lists are settings (kernel sizes, class names), not data",
        });
        return ERR;
      }
      spend(length);
      return { t: "list", items: [...left.items, ...right.items] };
    }
    if (left.t === "list" && right.t === "num" && expr.op === "*") {
      if (!Number.isInteger(right.v) || right.v < 0 || right.v * left.items.length > LIMITS.listItems) {
        this.report("VN015", `a list can be repeated a whole number of times (at most ${LIMITS.listItems} items), not ${right.v}`, file, expr.right.range);
        return ERR;
      }
      spend(right.v * left.items.length);
      return { t: "list", items: Array.from({ length: right.v }, () => left.items).flat() };
    }
    if (left.t === "str" && right.t === "str" && expr.op === "+") {
      const length = left.v.length + right.v.length;
      if (length > LIMITS.stringLength) {
        this.report("VN015", `this \`+\` makes a string of ${length} characters; a computed string holds at most ${LIMITS.stringLength}`, file, expr.range);
        return ERR;
      }
      spend(length);
      return { t: "str", v: left.v + right.v };
    }
    if (left.t === "str" && right.t === "str" && ["<", "<=", ">", ">="].includes(expr.op)) {
      return { t: "bool", v: compare(expr.op, left.v < right.v ? -1 : left.v > right.v ? 1 : 0) };
    }
    if (left.t !== "num" || right.t !== "num") {
      const bad = left.t !== "num" ? expr.left : expr.right;
      const badValue = left.t !== "num" ? left : right;
      return this.typeError(
        `\`${expr.op}\` needs numbers, got ${typeName(badValue)}`,
        file,
        bad.range,
        badValue.t === "tensor" ? "use `.channels`, `.frames`, `.height` or `.width` for a tensor's sizes" : undefined,
      );
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

  private call(expr: A.CallExpr, env: Env, ctx: StageContext): Value {
    const file = env.module.file;
    if (expr.callee.kind !== "Name") return this.typeError("only named functions can be called", file, expr.callee.range);
    const name = expr.callee.name;
    const fn = FUNCTIONS.get(name);
    if (!fn) {
      if (OPERATORS.has(name) || this.host.context.lookupTop(file, name)?.definition?.kind === "block") {
        return this.typeError(
          `\`${name}\` is applied to tensors with \`->\`, not called like a function`,
          file,
          expr.callee.range,
          `write \`x -> ${name}(...)\``,
        );
      }
      this.report("VN011", `unknown function \`${name}\``, file, expr.callee.range, {
        hint: didYouMean(name, FUNCTIONS.keys()) ?? `functions are: ${[...FUNCTIONS.keys()].join(", ")}`,
      });
      return ERR;
    }
    const positional: Value[] = [];
    const named = new Map<string, { value: Value; range: Range }>();
    for (const arg of expr.args) {
      const value = this.expr(arg.value, env, ctx);
      if (arg.name) named.set(arg.name.name, { value, range: arg.name.range });
      else positional.push(value);
    }
    if ([...positional, ...[...named.values()].map((n) => n.value)].some(containsError)) return ERR;
    if (name === "clip" || name === "image" || name === "sequence" || name === "boxes") return this.inputDescription(name, positional, named, expr, file);
    if (named.size > 0) return this.typeError(`\`${name}\` takes no named arguments`, file, [...named.values()][0]!.range);
    let args = positional;
    if ((name === "min" || name === "max" || name === "sum" || name === "len") && args.length === 1 && args[0]!.t === "list")
      args = [...(args[0] as { items: readonly Value[] }).items];
    if (name === "len") {
      if (positional.length !== 1 || positional[0]!.t !== "list") return this.typeError("`len` takes one list", file, expr.range);
      return { t: "num", v: args.length };
    }
    if (args.length < fn.arity[0] || (name !== "sum" && name !== "min" && name !== "max" && args.length > fn.arity[1])) {
      return this.typeError(
        `\`${name}\` takes ${fn.arity[0] === fn.arity[1] ? fn.arity[0] : `${fn.arity[0]} to ${fn.arity[1]}`} argument(s), got ${args.length}`,
        file,
        expr.range,
      );
    }
    const numbers: number[] = [];
    for (const a of args) {
      if (a.t !== "num") return this.typeError(`\`${name}\` needs numbers, got ${typeName(a)}`, file, expr.range);
      numbers.push(a.v);
    }
    // Reduced in a loop: spreading a long list into Math.min's arguments would overflow the stack.
    const v =
      name === "floor"
        ? Math.floor(numbers[0]!)
        : name === "ceil"
          ? Math.ceil(numbers[0]!)
          : name === "round"
            ? Math.round(numbers[0]!)
            : name === "abs"
              ? Math.abs(numbers[0]!)
              : name === "min"
                ? numbers.reduce((m, x) => Math.min(m, x), Infinity)
                : name === "max"
                  ? numbers.reduce((m, x) => Math.max(m, x), -Infinity)
                  : numbers.reduce((s, x) => s + x, 0);
    return { t: "num", v };
  }

  /** `clip(frames, size, channels)`, `image(size, channels)` and `sequence(length, features)`: the description of a network input. */
  private inputDescription(name: InputKind, positional: Value[], named: Map<string, { value: Value; range: Range }>, expr: A.CallExpr, file: string): Value {
    if (name === "boxes")
      return positional.length || named.size
        ? this.typeError("`boxes()` takes no arguments", file, expr.range)
        : { t: "input", kind: name, shape: [BOX_COLUMNS] };
    const order = INPUT_FUNCTION_PARAMS[name].map((p) => p.name);
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
        if (fallback === undefined)
          this.report("VN013", `\`${name}\` needs \`${key}\``, file, expr.range, {
            hint:
              name === "clip" ? "`clip(frames = 16, size = 112)`" : name === "sequence" ? "`sequence(length = 100, features = 400)`" : "`image(size = 224)`",
          });
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
    else if (
      sizeEntry.value.t === "list" &&
      sizeEntry.value.items.length === 2 &&
      sizeEntry.value.items.every((i) => i.t === "num" && Number.isInteger(i.v) && i.v > 0)
    ) {
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
}

/** The hint of an unknown name: declared further down, a near miss of a visible name, or an operator. */
export function unknownNameHint(
  check: CheckContext,
  scope: ModuleScope,
  name: string,
  at: number,
  context: ScopeContext,
  resolution: Resolution | undefined,
): string | undefined {
  if (resolution?.kind === "later") return `\`${name}\` is defined later; statements run top to bottom, so move it up`;
  return check.suggest(name, () => scope.visibleNames(at, context)) ?? (OPERATORS.has(name) ? `\`${name}\` is an operator: apply it with \`->\`` : undefined);
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
