#!/usr/bin/env node
import { main } from "../dist/src/cli/main.js";

// A reader that stops early (`vnet check specs | head`) closes the pipe: end quietly, as Unix
// tools do on SIGPIPE (exit 141), never with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(141);
  });

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    // An internal fault, never a user error: say so plainly, without a stack unless asked.
    process.stderr.write(`vnet: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.VNET_DEBUG) process.stderr.write(`${error?.stack ?? ""}\n`);
    process.exitCode = 70;
  },
);
