#!/usr/bin/env node
/**
 * The `tsaio` command: `tsaio bench` (the seed's experiment), `tsaio fetch`
 * (a concurrent fetcher), `tsaio serve` (the httpbin-style test server).
 * Arguments are parsed by commander; each command runs its body under the
 * core's `run()`, so Ctrl-C cancels it cleanly.
 *
 * Exit codes: 0 ok, 1 on failure, 2 on bad arguments, 130 on Ctrl-C.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerBench } from './bench.js';
import { registerFetch } from './fetch.js';
import { registerServe } from './serve.js';
import { registerWorker } from './worker.js';
import { EXIT, colorsFor } from './_common.js';

/** The package's version, read from its package.json. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Builds the `tsaio` program with its three commands. */
function createProgram(): Command {
  const errors = colorsFor(process.stderr);
  const program = new Command('tsaio')
    .description('asyncio for TypeScript: the 10-requests experiment, a concurrent fetcher and a test server')
    .version(version(), '-V, --version')
    .showSuggestionAfterError()
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(errors.red(text)) });
  registerBench(program);
  registerFetch(program);
  registerServe(program);
  registerWorker(program);
  return program;
}

/** Runs `tsaio` with `argv` (as `process.argv`) and resolves to the exit code. */
async function main(argv: readonly string[] = process.argv): Promise<number> {
  process.exitCode = undefined;
  try {
    await createProgram().parseAsync([...argv]);
  } catch (error) {
    // Help and --version end with 0; every argument error with 2.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    throw error;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
}

// A reader that goes away (`tsaio --help | head -1`) ends the program quietly,
// unless a command handles it itself (`tsaio fetch` adds its own listener).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  if (process.stdout.listenerCount('error') === 1) process.exit(EXIT.OK);
});

process.exitCode = await main();
