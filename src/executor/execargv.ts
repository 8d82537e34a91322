/**
 * `workerExecArgv`: which of the parent's Node flags (`process.execArgv`) a
 * worker thread or a child process is started with. Node passes them all by
 * default, and some of them are about the parent's own program, not about
 * running code: under `node --input-type=module -e '…'` a thread dies at
 * once ("--input-type can only be used with string input"), and a child
 * process runs the `-e` script again instead of its program.
 *
 * @module
 */

import { Worker, type WorkerOptions } from 'node:worker_threads';
import { describe } from '../_lowlevel.js';

/** Flags about the parent's program: what to run, how to test or watch it, its debugger. */
const ENTRY =
  /^(-e|--eval|-p|--print|-pe|-c|--check|-i|--interactive|--input-type|--test|--test-.*|--experimental-test-.*|--watch|--watch-.*|--run|--entry-url|--inspect|--inspect-.*|--debug-port|--build-snapshot|--build-snapshot-config|--snapshot-blob|--experimental-sea-config|--completion-bash|--help|-h|--version|-v|--v8-options|--prof-process)$/;

/** Flags that take the next token as their value even if it starts with `-` (the code of `-e`). */
const CODE = new Set(['-e', '--eval', '-p', '--print', '-pe']);

/**
 * The process's own settings (Node's per-process options and V8's): a thread
 * shares them already, and Node refuses them in a thread's `execArgv`.
 * Measured on Node 20; a flag Node refuses that is not listed here is
 * dropped when a thread is started (`startWorkerThread`).
 */
const PROCESS_WIDE =
  /^(--abort-on-uncaught-exception|--disable-proto|--disable-wasm-trap-handler|--disallow-code-generation-from-strings|--enable-fips|--force-fips|--expose-gc|--expose_gc|--huge-max-old-generation-size|--icu-data-dir|--interpreted-frames-native-stack|--jitless|--max-old-space-size|--max-semi-space-size|--stack-size|--stack-trace-limit|--node-memory-debug|--openssl-config|--openssl-legacy-provider|--openssl-shared-config|--prof|--perf-.*|--harmony.*|--report-compact|--report-dir|--report-directory|--report-filename|--report-on-fatalerror|--secure-heap|--secure-heap-min|--title|--tls-cipher-list|--tls-max-v1\.[0-9]|--tls-min-v1\.[0-9]|--trace-event-categories|--trace-event-file-pattern|--trace-sigint|--use-bundled-ca|--use-largepages|--use-openssl-ca|--v8-pool-size|--zero-fill-buffers)$/;

/** One flag and its value tokens, as they appear in `execArgv`. */
interface Flag {
  name: string;
  /** The value given with `=`, if any. */
  inline: string | undefined;
  tokens: string[];
}

/** `argv` cut into flags: a token that does not start with `-` is the value of the flag before it. */
function flagsOf(argv: readonly string[]): Flag[] {
  const flags: Flag[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const last = flags.at(-1);
    if (
      last !== undefined &&
      (!token.startsWith('-') ||
        (CODE.has(last.name) && last.inline === undefined && last.tokens.length === 1))
    ) {
      last.tokens.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    flags.push({
      name: eq > 0 && token.startsWith('--') ? token.slice(0, eq) : token,
      inline: eq > 0 && token.startsWith('--') ? token.slice(eq + 1) : undefined,
      tokens: [token],
    });
  }
  return flags;
}

/**
 * The flags of `argv` (default: this process's `execArgv`) that a worker
 * of `kind` is started with. tsaio's thread and process pools, `toThread`,
 * the sync functions and `tsaio/sqlite` start theirs with these.
 *
 * Both kinds get the flags that shape how code loads and runs: module
 * resolution (`--conditions`, `--experimental-default-type`, loaders,
 * `--import` and `--require` preloads), warnings, source maps, the
 * permission model (`--experimental-permission`, `--allow-*`: a thread
 * started without them would not be restricted). Neither gets the flags
 * about the parent's own program: `-e`/`--eval`, `-p`/`--print`,
 * `--input-type`, `--check`, `--interactive`, `--test*`, `--watch*`, and
 * the inspector's (`--inspect*`: a second debugger on the same port, or a
 * child stopped at `--inspect-brk`). A thread also does not get the
 * process's own settings (V8's flags, `--max-old-space-size`, `--title`
 * ...: it shares them, and Node refuses them per thread). tsx's flags are
 * kept (on Node 20 a thread does not run `--import` preloads: it registers
 * tsx itself when it loads TypeScript, and finds tsx there; a process pool
 * drops them for its JavaScript program).
 *
 * @param kind `'thread'` or `'process'`.
 * @param argv the parent's flags (default `process.execArgv`).
 * @returns the flags to start the worker with.
 * @throws {RangeError} for an unknown `kind`.
 *
 * @example
 * ```ts
 * import { workerExecArgv } from 'tsaio/executor';
 * const argv = ['--conditions=dev', '--max-old-space-size=4096', '--input-type=module', '-e', 'code'];
 * console.log(workerExecArgv('thread', argv)); // [ '--conditions=dev' ]
 * console.log(workerExecArgv('process', argv)); // [ '--conditions=dev', '--max-old-space-size=4096' ]
 * ```
 */
export function workerExecArgv(
  kind: 'thread' | 'process',
  argv: readonly string[] = process.execArgv,
): string[] {
  if (kind !== 'thread' && kind !== 'process') {
    throw new RangeError(`workerExecArgv: kind must be 'thread' or 'process', received ${describe(kind)}`);
  }
  const keep = (flag: Flag) =>
    !ENTRY.test(flag.name) && (kind === 'process' || !PROCESS_WIDE.test(flag.name));
  return flagsOf(argv)
    .filter(keep)
    .flatMap((flag) => flag.tokens);
}

/** The thread flags Node accepted, once a thread has started. */
let accepted: string[] | null = null;

/**
 * Starts a worker thread with `workerExecArgv('thread')`. A flag that Node
 * still refuses in a thread (a V8 flag this version does not list) is
 * dropped, as Node names it, and the thread started without it; what Node
 * accepts is kept for the next threads. For tsaio's own workers (the
 * executors and `tsaio/sqlite`).
 *
 * @internal
 */
export function startWorkerThread(filename: string | URL, options: WorkerOptions): Worker {
  let argv = accepted ?? workerExecArgv('thread');
  for (let tries = 0; ; tries++) {
    try {
      const worker = new Worker(filename, { ...options, execArgv: argv });
      accepted = argv;
      return worker;
    } catch (error) {
      const refused = tries < 5 ? refusedBy(error, argv) : null;
      if (refused === null) throw error;
      argv = refused;
    }
  }
}

/** `argv` less the flags that Node's `ERR_WORKER_INVALID_EXEC_ARGV` names, or `null` if it named none of them. */
function refusedBy(error: unknown, argv: string[]): string[] | null {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return null;
  const named = new Set(
    String((error as Error).message)
      .replace(/^.*?flags: /, '')
      .split(', ')
      .map((flag) => flag.replace(/=.*$/, '')),
  );
  const flags = flagsOf(argv);
  const kept = flags.filter((flag) => !named.has(flag.name));
  return kept.length === flags.length ? null : kept.flatMap((flag) => flag.tokens);
}
