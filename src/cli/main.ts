/**
 * The `vnet` command line: looks the command up in the table (commands.ts), parses its flags
 * (args.ts) and runs it. Exit codes: 0 success, 1 errors (in the specs, the data, a failed
 * write), 2 usage errors and refusals before any work, 130/143 interrupted. A user's mistake
 * never prints a stack trace: usage errors print `vnet: message`, VnetErrors (and file-system
 * errors naming a path) one line with a code and a hint; anything else is a bug, reported by
 * bin/vnet.js as an internal error.
 */
import { formatVnetError, VnetError } from "../diagnostics/error.js";
import { fileSystemError } from "../runtime/files.js";
import { releaseAllRunLocks } from "../runtime/run.js";
import { closest } from "../semantics/suggest.js";
import { formatFlags, parseArgs, UsageError } from "./args.js";
import type { Command, CommandContext, CommandGroup } from "./command.js";
import { COMMANDS, type CommandEntry } from "./commands.js";

export { UsageError } from "./args.js";

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: vnet <command> [options]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "`vnet <command> --help` lists a command's options.",
  ].join("\n");
}

function isGroup(command: Command | CommandGroup): command is CommandGroup {
  return "subcommands" in command;
}

/** `vnet <command> --help`: the usage line, the description and every flag. */
export function commandHelp(command: Command): string {
  const flags = formatFlags(command.flags);
  return [`usage: vnet ${command.usage}`, "", command.description, ...(flags.length ? ["", "options:", ...flags] : [])].join("\n");
}

function groupHelp(group: CommandGroup): string {
  return [
    `usage: vnet ${group.name} <${group.subcommands.map((s) => s.name).join("|")}> [options]`,
    "",
    group.description,
    "",
    ...group.subcommands.map((s) => `  vnet ${s.usage}`),
  ].join("\n");
}

function findEntry(name: string): CommandEntry {
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry) return entry;
  const near = closest(
    name,
    COMMANDS.map((c) => c.name),
  );
  throw new UsageError(`unknown command \`${name}\`${near ? `; did you mean \`${near}\`?` : ""} (\`vnet help\` lists the commands)`);
}

function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

const SYSCALLS: Record<string, string> = {
  open: "open",
  read: "read",
  write: "write",
  mkdir: "create",
  rename: "rename",
  unlink: "remove",
  rmdir: "remove",
  scandir: "list",
  stat: "read",
  lstat: "read",
  copyfile: "copy",
  symlink: "link",
};

/** A file-system failure that no command anticipated (it names the path it failed on) as a VnetError. */
function unexpectedFileError(error: unknown): VnetError | undefined {
  const errno = error as NodeJS.ErrnoException | undefined;
  if (typeof errno?.path !== "string") return undefined;
  return fileSystemError(error, errno.path, SYSCALLS[errno.syscall ?? ""] ?? "use");
}

/**
 * While an interruptible command runs: the first SIGINT or SIGTERM aborts the returned signal (the
 * command finishes its step and says where its last checkpoint is); a second one ends the process
 * at once, releasing run locks (checkpoints are crash-safe, so nothing complete is lost).
 */
function catchSignals(err: (s: string) => void): { signal: AbortSignal; remove(): void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      err(`vnet: ${name} again: stopping now`);
      releaseAllRunLocks();
      process.exit(name === "SIGTERM" ? 143 : 130);
    }
    err(`\nvnet: ${name}: stopping after the current step (${name === "SIGINT" ? "Ctrl-C" : "SIGTERM"} again stops at once)`);
    controller.abort(name);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    remove() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/** Runs the CLI; returns the exit code. `out`/`err`/`progress` default to the process streams. */
export async function main(
  argv: readonly string[],
  io: { out?: (s: string) => void; err?: (s: string) => void; progress?: (s: string) => void; interrupt?: AbortSignal } = {},
): Promise<number> {
  const out = io.out ?? ((s: string) => process.stdout.write(`${s}\n`));
  const err = io.err ?? ((s: string) => process.stderr.write(`${s}\n`));
  const progress = io.progress ?? ((text: string) => process.stderr.write(process.stderr.isTTY ? text : text.replace(/^\r/, "").replace(/^([^\n]*)$/, "")));
  const [name, ...rest] = argv;
  if (name === undefined) {
    err(usage());
    return 2;
  }
  if (name === "help" || name === "--help" || name === "-h") {
    if (rest[0] === undefined || name !== "help") {
      out(usage());
      return 0;
    }
    return main([rest[0], "--help"], io);
  }
  try {
    const entry = findEntry(name);
    const loaded = await entry.load();
    let command: Command;
    let args = rest;
    if (isGroup(loaded)) {
      const [sub, ...subArgs] = rest;
      const found = loaded.subcommands.find((s) => s.name === sub);
      if (!found) {
        if (sub === undefined || sub === "--help" || sub === "-h") {
          (sub === undefined ? err : out)(groupHelp(loaded));
          return sub === undefined ? 2 : 0;
        }
        throw new UsageError(`unknown vnet ${loaded.name} subcommand \`${sub}\` (${loaded.subcommands.map((s) => s.name).join(", ")})`);
      }
      command = found;
      args = subArgs;
    } else command = loaded;
    const label = isGroup(loaded) ? `${loaded.name} ${command.name}` : command.name;
    if (wantsHelp(args)) {
      out(commandHelp(command));
      return 0;
    }
    const parsed = parseArgs(label, command.flags, command.positional, args);
    const signals = command.interruptible && !io.interrupt ? catchSignals(err) : undefined;
    const context: CommandContext = {
      out,
      err,
      progress,
      color: process.stdout.isTTY === true,
      interrupt: io.interrupt ?? signals?.signal ?? new AbortController().signal,
    };
    try {
      return await command.run(parsed, context);
    } finally {
      signals?.remove();
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err(`vnet: ${error.message}`);
      return 2;
    }
    const reported = error instanceof VnetError ? error : unexpectedFileError(error);
    if (!reported) throw error;
    err(formatVnetError(reported));
    return reported.exitCode;
  }
}
