/**
 * `tsaio worker MODULE`: serves the functions MODULE exports to a
 * `RemoteExecutor` (tsaio/nats) until Ctrl-C. MODULE is found from the
 * current directory (a file, or a package); a TypeScript one runs through the
 * project's tsx. One line per job goes to stderr as it ends (`--quiet`:
 * none).
 *
 * @module
 */

import type { Command } from 'commander';
import { CancelledError } from '../index.js';
import type { JobFunctions, currentJob as CurrentJob } from '../nats/index.js';
import { UsageError, colorsFor, describeError, integerAtLeast, runCommand } from './_common.js';
import { importFromCwd } from './_load.js';

/** What `tsaio worker` takes on the command line. */
interface WorkerFlags {
  servers: string;
  executor: string;
  concurrency: number;
  /** Copies of the job queue's streams in a JetStream cluster, if this worker makes them. */
  replicas?: number;
  name?: string;
  /** No line per job. */
  quiet?: boolean;
}

/** Adds `tsaio worker` to `program`. */
export function registerWorker(program: Command): Command {
  return program
    .command('worker')
    .description('run the functions a module exports for a RemoteExecutor (tsaio/nats) until Ctrl-C')
    .argument(
      '<module>',
      'the module whose exported functions to serve: a file (.js, .mjs, .ts through tsx) or a package, from the current directory',
    )
    .option('-s, --servers <list>', 'NATS server addresses, comma-separated', '127.0.0.1:4222')
    .option('-e, --executor <name>', 'the executor whose jobs to run', 'default')
    .option('-c, --concurrency <n>', 'jobs run at once', integerAtLeast(1), 1)
    .option(
      '--replicas <n>',
      "copies of the job queue's streams in a NATS cluster, if this worker is the first to open the executor (1 to 5; default 1)",
      integerAtLeast(1),
    )
    .option('--name <name>', "this worker's name in results (default host:pid)")
    .option('-q, --quiet', 'no line per job (by default one on stderr as each job ends)')
    .addHelpText(
      'after',
      '\nA TypeScript module runs through tsx when the project has it (npm i -D tsx).\n' +
        'Each job ends with a line on stderr: job <id> <function>: done in 3 ms | failed in 2 ms: <error>\n' +
        '| cancelled after 120 ms | handed back (the worker stopped).\n' +
        '\nExample:\n  $ tsaio worker ./jobs.js --concurrency 2 &\n' +
        "  then, elsewhere: (await RemoteExecutor.open(conn)).submit('sumOfSquares', 0, 1e6)",
    )
    .action(async (module: string, flags: WorkerFlags) => {
      process.exitCode = await runCommand((signal) => work(module, flags, signal));
    });
}

/** The functions `specifier` exports (a `default` object's functions too). */
async function load(specifier: string): Promise<JobFunctions> {
  const ns = await importFromCwd(specifier);
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

/** True for the error a cancelled job ends with. */
function isCancellation(error: unknown): boolean {
  return error instanceof Error && (error.name === 'CancelledError' || error.name === 'AbortError');
}

/**
 * `functions`, each writing one line to `log` as its job ends: done, failed
 * (with the error), cancelled by its submitter, or handed back because the
 * worker stops (`stopping` aborted).
 */
function logged(
  functions: JobFunctions,
  log: (line: string) => void,
  stopping: AbortSignal,
  currentJob: typeof CurrentJob,
): JobFunctions {
  const wrapped: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(functions)) {
    wrapped[name] = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const job = currentJob();
      const started = performance.now();
      const took = (): string => (performance.now() - started).toFixed(1);
      const head = `job ${job.id} ${name}${job.attempt > 1 ? ` (attempt ${job.attempt})` : ''}`;
      try {
        const value = await fn.apply(this, args);
        log(`${head}: done in ${took()} ms`);
        return value;
      } catch (error) {
        if (job.signal.aborted && isCancellation(error)) {
          log(
            stopping.aborted
              ? `${head}: handed back (the worker stopped)`
              : `${head}: cancelled after ${took()} ms`,
          );
        } else log(`${head}: failed in ${took()} ms: ${describeError(error)}`);
        throw error;
      }
    };
  }
  return wrapped;
}

async function work(module: string, flags: WorkerFlags, signal: AbortSignal): Promise<number> {
  // tsaio/nats's client is an optional peer dependency: of the commands, only this one needs it,
  // and without it this fails with the error that says what to install.
  const { connect, currentJob, serve } = await import('../nats/index.js');
  const colors = colorsFor(process.stdout);
  const exported = await load(module);
  const functions =
    flags.quiet === true
      ? exported
      : logged(exported, (line) => void process.stderr.write(`${line}\n`), signal, currentJob);
  const servers = flags.servers.split(',').map((s) => s.trim());
  await using conn = await connect({ servers, name: `tsaio worker ${module}`, signal });
  const stats = await serve(conn, functions, {
    executor: flags.executor,
    concurrency: flags.concurrency,
    ...(flags.replicas !== undefined ? { replicas: flags.replicas } : {}),
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
