/**
 * What a `vnet` command is: its usage line, its flags and positional arguments (as data, parsed by
 * `args.ts`), and a `run` that gets them typed. One file per command under `commands/` exports one
 * `Command` (or a `CommandGroup` of subcommands, `vnet data synth`); the table in `commands.ts`
 * lists them. Errors a command cannot recover from are thrown: `UsageError` (exit 2) for a wrong
 * invocation, `VnetError` (src/diagnostics/error.ts: a VN code, exit 1 or 2) for everything else
 * the user can fix.
 */
import type { FlagSpecs, ParsedArgs, PositionalSpec } from "./args.js";

/** Where a command writes. */
export interface CommandContext {
  /** The command's report (stdout). */
  readonly out: (line: string) => void;
  /** Errors and verdicts (stderr). */
  readonly err: (line: string) => void;
  /** Progress text (stderr); a leading `\r` redraws the line on a terminal. */
  readonly progress: (text: string) => void;
  /** Whether stdout is a terminal that takes colour. */
  readonly color: boolean;
  /**
   * Set while a long run can be interrupted: SIGINT/SIGTERM abort this signal, and the command
   * finishes its current step, says where its last output is, and returns.
   */
  readonly interrupt: AbortSignal;
}

export interface Command<F extends FlagSpecs = FlagSpecs> {
  /** `train`, or `synth` inside the `data` group. */
  readonly name: string;
  /** The usage line without `vnet `: `train <spec> --data <D> -o <run-dir> [options]`. */
  readonly usage: string;
  /** What it does, for `vnet <command> --help`. */
  readonly description: string;
  readonly positional: PositionalSpec;
  readonly flags: F;
  /** SIGINT/SIGTERM abort `context.interrupt` instead of ending the process (the command stops cleanly itself). */
  readonly interruptible?: boolean;
  run(args: ParsedArgs<F>, context: CommandContext): Promise<number> | number;
}

/** A command made of subcommands (`vnet data synth`, `vnet weights import`). */
export interface CommandGroup {
  readonly name: string;
  readonly description: string;
  readonly subcommands: readonly Command[];
}

/** Declares a command; its `run` receives flag values typed by the declarations. */
export function defineCommand<const F extends FlagSpecs>(command: Command<F>): Command<F> {
  return command;
}
