/**
 * Private: what a `RemoteExecutor` and its workers say to each other, and
 * the checks that keep a hostile publisher from taking part.
 *
 * - Jobs go through the `DistributedQueue` `exec-<executor>` (at least once:
 *   a job whose worker dies is run again by another one). A job names its
 *   submitter (the executor handle's random id) and carries a random token
 *   that only its submitter and the workers see.
 * - A worker sends the outcome to `tsaio.x.<executor>.result.<submitter>`,
 *   a subject it derives itself (a job never names where its result goes),
 *   as a request, and tries again a few times until the submitter confirms,
 *   so a short disconnection loses no result. The outcome carries the job's
 *   id and token; the submitter takes it only if both match a job it is
 *   waiting for, and drops (and counts) anything else.
 * - Cancelling a future publishes the job's id and token on
 *   `tsaio.x.<executor>.cancel`, which every worker of the executor listens
 *   to; a worker cancels a job only if the token matches.
 *
 * Every message from the network is checked here before anyone reads it:
 * anything not of the expected shape is refused, never thrown.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import type { RemoteErrorInfo } from './errors.js';

/** One job in the queue. */
export interface JobMessage {
  id: string;
  fn: string;
  args: unknown[];
  /** The id of the executor handle that submitted it: its result goes to `resultSubject(executor, submitter)`. */
  submitter: string;
  /** A random token of this job, sent back with its outcome and its cancellation. */
  token: string;
}

/** What a job came to, before a worker adds the job's id, token and its own name. */
export type Outcome =
  { ok: true; value: unknown } | { ok: false; error: RemoteErrorInfo } | { cancelled: true };

/** What a worker sends back. */
export type JobOutcome = Outcome & { id: string; token: string; worker: string };

/** What a submitter sends to cancel a job. */
export interface CancelMessage {
  id: string;
  token: string;
}

const NAME = /^[A-Za-z0-9_-]{1,100}$/;
/** Ids, submitter ids and tokens: one subject token of safe characters (no `.`, `*`, `>`). */
const KEY = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest function name a job may call. */
const MAX_FN = 200;

/** Checks an executor's name; a `TypeError` unless it is 1-100 letters, digits, `_` or `-`. */
export function checkExecutorName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(
      `${where}: an executor name must be 1 to 100 letters, digits, '_' or '-', received ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** The queue an executor's jobs go through. */
export function jobQueueName(executor: string): string {
  return `exec-${executor}`;
}

/** The subject cancellations of an executor's jobs are published on. */
export function cancelSubject(executor: string): string {
  return `tsaio.x.${executor}.cancel`;
}

/** The subject the results of `submitter`'s jobs go to. */
export function resultSubject(executor: string, submitter: string): string {
  return `tsaio.x.${executor}.result.${submitter}`;
}

/** A new random token (144 bits). */
export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

/** True for an id, submitter id or token: a short string of letters, digits, `_` and `-`. */
export function isKey(value: unknown): value is string {
  return typeof value === 'string' && KEY.test(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a worker makes of a queue item: a job, or why it is none (and whom to tell, if anyone). */
export type ParsedJob =
  | { job: JobMessage }
  | { malformed: string; answer: { id: string; submitter: string; token: string } | null };

/** Reads a queue item as a job. */
export function parseJob(value: unknown): ParsedJob {
  if (!isRecord(value)) return { malformed: `a job must be an object, not ${kind(value)}`, answer: null };
  const { id, fn, args, submitter, token } = value;
  const addressed = isKey(id) && isKey(submitter) && isKey(token);
  const answer = addressed ? { id, submitter, token } : null;
  if (!addressed) return { malformed: 'a job needs a valid id, submitter and token', answer };
  if (typeof fn !== 'string' || fn === '' || fn.length > MAX_FN) {
    return { malformed: `fn must be a function's name, not ${kind(fn)}`, answer };
  }
  if (!Array.isArray(args)) return { malformed: `args must be an array, not ${kind(args)}`, answer };
  return { job: { id, fn, args, submitter, token } };
}

/** Reads a message on a result subject as an outcome; `null` if it is not one. */
export function parseOutcome(value: unknown): JobOutcome | null {
  if (!isRecord(value)) return null;
  const { id, token, worker } = value;
  if (!isKey(id) || typeof worker !== 'string' || (token !== undefined && typeof token !== 'string'))
    return null;
  const base = { id, token: token ?? '', worker };
  if (value['cancelled'] === true) return { ...base, cancelled: true };
  if (value['ok'] === true) return { ...base, ok: true, value: value['value'] }; // no `value`: the function returned undefined
  if (value['ok'] === false && isErrorInfo(value['error']))
    return { ...base, ok: false, error: value['error'] };
  return null;
}

function isErrorInfo(value: unknown): value is RemoteErrorInfo {
  return (
    isRecord(value) &&
    typeof value['name'] === 'string' &&
    typeof value['message'] === 'string' &&
    (value['stack'] === undefined || typeof value['stack'] === 'string')
  );
}

/** Reads a cancellation; `null` if it is not one. */
export function parseCancel(data: Uint8Array): CancelMessage | null {
  const value = parseJson(data);
  if (!isRecord(value) || !isKey(value['id']) || !isKey(value['token'])) return null;
  return { id: value['id'], token: value['token'] };
}

/** JSON from bytes; `undefined` if they are not UTF-8 JSON. */
export function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch {
    return undefined;
  }
}

/** A short description of a value that is not what was expected. */
function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export const encoder = new TextEncoder();
export const decoder = new TextDecoder('utf-8', { fatal: true });
