/**
 * Helpers shared by the `tsaio` subcommands: option parsers for commander,
 * colours that follow the terminal, and `runCommand`, which runs a command's
 * body under the core's `run()` and turns its outcome into an exit code.
 *
 * @module
 */

import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import pc from 'picocolors';
import { CancelledError, run, type RunOptions } from '../index.js';

/** The exit codes of `tsaio`: 0 ok, 1 on failure, 2 on bad arguments, 130 on Ctrl-C. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, INTERRUPTED: 130 } as const;

/** Bad input found once the command runs (after commander parsed the arguments): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The colour functions of picocolors. */
export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colours for `stream`: on only when it is a terminal (or `FORCE_COLOR` is
 * set), and never with `NO_COLOR`.
 */
export function colorsFor(stream: NodeJS.WriteStream): Colors {
  const env = process.env;
  const forced = env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0';
  const enabled = !('NO_COLOR' in env) && (forced || (stream.isTTY === true && env['TERM'] !== 'dumb'));
  return pc.createColors(enabled);
}

/** Parses a whole number `>= min` (a commander option parser). */
export function integerAtLeast(min: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected a whole number >= ${min}, got '${value}'.`);
    }
    return n;
  };
}

/** Parses a finite number `>= 0`, or `> 0` with `positive` (a commander option parser). */
export function numberAtLeastZero(positive = false): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (positive && n === 0)) {
      throw new InvalidArgumentError(
        `expected a ${positive ? 'positive' : 'non-negative'} number, got '${value}'.`,
      );
    }
    return n;
  };
}

/** Parses a TCP port, 0 to 65535 (0: any free port). */
export function port(value: string): number {
  const n = integerAtLeast(0)(value);
  if (n > 65_535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got '${value}'.`);
  return n;
}

/** Parses an http(s) URL. */
export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected an http or https URL, got '${value}'.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`expected an http or https URL, got '${value}'.`);
  }
  return url.href;
}

/**
 * Why a file cannot be written at `path` (its directory is missing, is not
 * writable, or `path` is a directory), or `null` when it can: checked before
 * a long run rather than after it.
 *
 * @example
 * ```ts
 * outputFileProblem('/no/such/dir/report.html'); // 'no such directory /no/such/dir'
 * ```
 */
export function outputFileProblem(path: string): string | null {
  const file = resolve(path);
  const dir = dirname(file);
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
  } catch {
    return `no such directory ${dir}`;
  }
  try {
    if (statSync(file).isDirectory()) return `${file} is a directory`;
    accessSync(file, constants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return `cannot write ${file}`;
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      return `cannot write in ${dir}`;
    }
  }
  return null;
}

/** One line of text for an error: `Name: message`. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const inner = error.cause instanceof Error ? error.cause.message : '';
    const cause = inner !== '' && !error.message.includes(inner) ? ` (${inner})` : '';
    return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}${cause}`;
  }
  return String(error);
}

/** Seconds with `digits` decimals, trailing zeros dropped: 10, 1.8, 0.25. */
export function seconds(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

/**
 * Runs a command's `body(signal)` as the main task of the core's `run()` and
 * resolves to the exit code: what the body returns (default 0), 130 when
 * Ctrl-C (SIGINT) cancelled it (143 for SIGTERM), 2 for a `UsageError`, 1
 * for any other error, whose message goes to stderr.
 */
export async function runCommand(
  body: (signal: AbortSignal) => Promise<number | void>,
  opts: RunOptions = {},
): Promise<number> {
  const colors = colorsFor(process.stderr);
  try {
    return (await run(body, opts)) ?? EXIT.OK;
  } catch (error) {
    if (error instanceof CancelledError) {
      // run() sets 128 + the signal's number when a signal cancelled the body.
      return typeof process.exitCode === 'number' && process.exitCode > 128
        ? process.exitCode
        : EXIT.INTERRUPTED;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`${colors.red('error:')} ${error.message}\n`);
      return EXIT.USAGE;
    }
    process.stderr.write(`${colors.red('tsaio: error:')} ${describeError(error)}\n`);
    return EXIT.FAILURE;
  }
}
