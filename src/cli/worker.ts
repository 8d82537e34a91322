/**
 * `tsaio worker MODULE`: serves the functions MODULE exports to a
 * `RemoteExecutor` (tsaio/nats) until Ctrl-C.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { CancelledError } from '../index.js';
import { connect, serve, type JobFunctions } from '../nats/index.js';
import { UsageError, colorsFor, integerAtLeast, runCommand } from './_common.js';

/** What `tsaio worker` takes on the command line. */
interface WorkerFlags {
  servers: string;
  executor: string;
  concurrency: number;
  name?: string;
}

/** Adds `tsaio worker` to `program`. */
export function registerWorker(program: Command): Command {
  return program
    .command('worker')
    .description('run the functions a module exports for a RemoteExecutor (tsaio/nats) until Ctrl-C')
    .argument('<module>', 'the module whose exported functions to serve (a file path or a package name)')
    .option('-s, --servers <list>', 'NATS server addresses, comma-separated', '127.0.0.1:4222')
    .option('-e, --executor <name>', 'the executor whose jobs to run', 'default')
    .option('-c, --concurrency <n>', 'jobs run at once', integerAtLeast(1), 1)
    .option('--name <name>', "this worker's name in results (default host:pid)")
    .addHelpText(
      'after',
      '\nExample:\n  $ tsaio worker ./jobs.js --concurrency 2 &\n' +
        "  then, elsewhere: (await RemoteExecutor.open(conn)).submit('sumOfSquares', 0, 1e6)",
    )
    .action(async (module: string, flags: WorkerFlags) => {
      process.exitCode = await runCommand((signal) => work(module, flags, signal));
    });
}

/** The functions `specifier` exports (a `default` object's functions too). */
async function load(specifier: string): Promise<JobFunctions> {
  // A path to a file, as `node FILE` takes it; anything else is a package name.
  const local = existsSync(resolve(specifier));
  let ns: Record<string, unknown>;
  try {
    ns = (await import(local ? pathToFileURL(resolve(specifier)).href : specifier)) as Record<
      string,
      unknown
    >;
  } catch (error) {
    throw new UsageError(`cannot load module ${specifier}: ${(error as Error).message}`);
  }
  const functions: Record<string, (...args: unknown[]) => unknown> = {};
  const fallback = ns['default'];
  if (typeof fallback === 'object' && fallback !== null) {
    for (const [name, value] of Object.entries(fallback))
      if (typeof value === 'function') functions[name] = value as never;
  }
  for (const [name, value] of Object.entries(ns))
    if (typeof value === 'function') functions[name] = value as never;
  if (Object.keys(functions).length === 0) throw new UsageError(`module ${specifier} exports no function`);
  return functions;
}

async function work(module: string, flags: WorkerFlags, signal: AbortSignal): Promise<number> {
  const colors = colorsFor(process.stdout);
  const functions = await load(module);
  const servers = flags.servers.split(',').map((s) => s.trim());
  await using conn = await connect({ servers, name: `tsaio worker ${module}`, signal });
  const stats = await serve(conn, functions, {
    executor: flags.executor,
    concurrency: flags.concurrency,
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    signal,
    onReady: (name) =>
      process.stdout.write(
        `tsaio worker ${colors.bold(name)} ready: ${Object.keys(functions).join(', ')} from ${module} ` +
          `(executor '${flags.executor}', concurrency ${flags.concurrency}, ${conn.server})\n`,
      ),
  });
  process.stdout.write(
    `tsaio worker stopped: ${stats.done} done, ${stats.failed} failed, ${stats.cancelled} cancelled, ` +
      `${stats.handedBack} handed back, ${stats.malformed} malformed\n`,
  );
  if (signal.aborted) throw new CancelledError('the worker was stopped'); // exit code 130 (Ctrl-C) or 143
  return 0;
}
