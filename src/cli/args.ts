/**
 * The one command-line flag parser. A command declares its flags as data (kind, value name, range,
 * choices, default, doc); `parseArgs` turns argv into typed values and refuses everything else
 * with a usage error (exit 2): an unknown flag (with a suggestion), a flag given twice, a missing
 * or empty value (`--lr=`), a malformed number, a value out of range (`--train-clips 0`), an
 * unknown choice, and the wrong number of positional arguments. `formatFlags` renders the same
 * declarations as the command's help, so the parser and its documentation cannot drift.
 */
import { closest } from "../semantics/suggest.js";

/** A usage mistake: printed as `vnet: message` with exit code 2. */
export class UsageError extends Error {}

interface FlagCommon {
  readonly doc: string;
  /** A short form such as `-o`. */
  readonly alias?: string;
}

/** A flag without a value (`--verify`). */
export interface SwitchFlag extends FlagCommon {
  readonly type: "switch";
}

/** A flag with a text value (a path, a name). */
export interface StringFlag extends FlagCommon {
  readonly type: "string";
  /** The value's name in the help (`DIR`, `FILE`). */
  readonly value: string;
  readonly default?: string;
}

/** A flag with a number: `int` takes integers only. Bounds are inclusive (`min`, `max`) or exclusive (`above`, `below`). */
export interface NumberFlag extends FlagCommon {
  readonly type: "int" | "number";
  readonly value?: string;
  readonly min?: number;
  readonly max?: number;
  readonly above?: number;
  readonly below?: number;
  readonly default?: number;
}

/** A flag with one of a fixed set of values. */
export interface ChoiceFlag<C extends string = string> extends FlagCommon {
  readonly type: "choice";
  readonly choices: readonly C[];
  readonly default?: C;
}

export type FlagSpec = SwitchFlag | StringFlag | NumberFlag | ChoiceFlag;

/** A command's flags by name: the key `trainClips` is the flag `--train-clips`. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<S> = S extends SwitchFlag
  ? boolean
  : S extends ChoiceFlag<infer C>
    ? S extends { default: string }
      ? C
      : C | undefined
    : S extends NumberFlag
      ? S extends { default: number }
        ? number
        : number | undefined
      : S extends { default: string }
        ? string
        : string | undefined;

/** The parsed values of a command's flags, typed by their declarations. */
export type FlagValues<F extends FlagSpecs> = { readonly [K in keyof F]: ValueOf<F[K]> };

/** Positional arguments: their names for messages and help, and how many may be given. */
export interface PositionalSpec {
  /** As the usage line shows them: `<spec>`, `<files|dirs...>`. */
  readonly names: string;
  readonly min: number;
  /** Undefined: any number. */
  readonly max?: number;
}

export interface ParsedArgs<F extends FlagSpecs> {
  readonly positional: readonly string[];
  readonly flags: FlagValues<F>;
  /** The flags the user gave (by key), as opposed to defaults. */
  readonly given: ReadonlySet<keyof F & string>;
}

/** `trainClips` -> `--train-clips`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const INTEGER = /^[+-]?\d+$/;

function parseNumber(flag: string, spec: NumberFlag, text: string): number {
  const integer = spec.type === "int";
  if (!(integer ? INTEGER : DECIMAL).test(text.trim())) throw new UsageError(`${flag} needs ${integer ? "an integer" : "a number"}, got \`${text}\``);
  const value = Number(text);
  if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value)))
    throw new UsageError(`${flag} needs a finite ${integer ? "integer" : "number"}, got \`${text}\``);
  const bound = rangeText(spec);
  const inRange =
    (spec.min === undefined || value >= spec.min) &&
    (spec.max === undefined || value <= spec.max) &&
    (spec.above === undefined || value > spec.above) &&
    (spec.below === undefined || value < spec.below);
  if (!inRange) throw new UsageError(`${flag} must be ${bound}, got ${text}`);
  return value;
}

/** `at least 1`, `between 0 and 1 (exclusive)`, ... for messages and help. */
export function rangeText(spec: NumberFlag): string {
  const low = spec.min !== undefined ? `>= ${spec.min}` : spec.above !== undefined ? `> ${spec.above}` : undefined;
  const high = spec.max !== undefined ? `<= ${spec.max}` : spec.below !== undefined ? `< ${spec.below}` : undefined;
  const kind = spec.type === "int" ? "an integer" : "a number";
  if (low && high) return `${kind} ${low} and ${high}`;
  if (low) return `${kind} ${low}`;
  if (high) return `${kind} ${high}`;
  return kind;
}

function parseValue(flag: string, spec: Exclude<FlagSpec, SwitchFlag>, text: string): string | number {
  if (text === "") throw new UsageError(`${flag} needs a value, got an empty one`);
  if (spec.type === "int" || spec.type === "number") return parseNumber(flag, spec, text);
  if (spec.type === "choice" && !spec.choices.includes(text)) {
    const near = closest(text, spec.choices);
    throw new UsageError(`unknown ${flag} ${text} (${spec.choices.join(", ")})${near ? `; did you mean ${near}?` : ""}`);
  }
  return text;
}

/**
 * Parses `args` against a command's flags and positional arguments. `--flag value`, `--flag=value`
 * and aliases (`-o DIR`) are accepted; everything after `--` is positional. Throws UsageError.
 */
export function parseArgs<F extends FlagSpecs>(command: string, specs: F, positionalSpec: PositionalSpec, args: readonly string[]): ParsedArgs<F> {
  const byName = new Map<string, string>();
  for (const [key, spec] of Object.entries(specs)) {
    byName.set(flagName(key), key);
    if (spec.alias) byName.set(spec.alias, key);
  }
  const positional: string[] = [];
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  let rest = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (rest || !arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      positional.push(arg);
      continue;
    }
    if (arg === "--") {
      rest = true;
      continue;
    }
    const equals = arg.indexOf("=");
    const name = equals < 0 ? arg : arg.slice(0, equals);
    const inline = equals < 0 ? undefined : arg.slice(equals + 1);
    const key = byName.get(name);
    if (key === undefined) {
      const near = closest(
        name,
        [...byName.keys()].filter((n) => n.startsWith("--")),
      );
      const known = [...byName.keys()].filter((n) => n.startsWith("--"));
      throw new UsageError(
        `unknown option ${name} for vnet ${command}${near ? `; did you mean ${near}?` : known.length ? ` (options: ${known.join(", ")})` : " (it takes no options)"}`,
      );
    }
    const spec = specs[key]!;
    if (given.has(key)) throw new UsageError(`${name} is given twice`);
    given.add(key);
    if (spec.type === "switch") {
      if (inline !== undefined) throw new UsageError(`${name} takes no value (got ${arg})`);
      values[key] = true;
      continue;
    }
    let text = inline;
    if (text === undefined) {
      const next = args[i + 1];
      // A following flag is not this one's value (`-o --data x`), but a negative number is.
      if (next === undefined || (next.startsWith("-") && next !== "-" && !/^-[\d.]/.test(next)))
        throw new UsageError(`${name} needs a value${valueHint(spec)}`);
      text = next;
      i++;
    }
    values[key] = parseValue(name, spec, text);
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (!(key in values)) values[key] = spec.type === "switch" ? false : spec.default;
  }
  const count = positional.length;
  const { min, max } = positionalSpec;
  if (count < min || (max !== undefined && count > max)) {
    const wanted =
      max === 0
        ? "no positional arguments"
        : min === max
          ? `${min === 1 ? "one" : min} ${positionalSpec.names}`
          : max === undefined
            ? `at least ${min} ${positionalSpec.names}`
            : `${min} to ${max} arguments: ${positionalSpec.names}`;
    throw new UsageError(`vnet ${command} takes ${wanted}${count > (max ?? Infinity) ? ` (got ${positional.join(" ")})` : ""}`);
  }
  return { positional, flags: values as FlagValues<F>, given: given as ReadonlySet<keyof F & string> };
}

function valueHint(spec: Exclude<FlagSpec, SwitchFlag>): string {
  if (spec.type === "choice") return ` (${spec.choices.join(", ")})`;
  if (spec.type === "string") return `: ${spec.value}`;
  return `: ${rangeText(spec)}`;
}

/** The help lines of a command's flags: `  --epochs N   epochs to train (an integer >= 1)`. */
export function formatFlags(specs: FlagSpecs): string[] {
  const rows = Object.entries(specs).map(([key, spec]) => {
    const names = `${spec.alias ? `${spec.alias}, ` : ""}${flagName(key)}`;
    const value =
      spec.type === "switch"
        ? ""
        : spec.type === "choice"
          ? ` ${spec.choices.join("|")}`
          : ` ${spec.type === "string" ? spec.value : (spec.value ?? (spec.type === "int" ? "N" : "X"))}`;
    const notes = [
      spec.type === "int" || spec.type === "number" ? rangeText(spec) : undefined,
      "default" in spec && spec.default !== undefined ? `default ${spec.default}` : undefined,
    ].filter(Boolean);
    return [`${names}${value}`, `${spec.doc}${notes.length ? ` [${notes.join("; ")}]` : ""}`] as const;
  });
  const width = Math.min(34, Math.max(0, ...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
