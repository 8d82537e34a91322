/**
 * Private: what a `RemoteExecutor` and its workers say to each other.
 *
 * - Jobs go through the `DistributedQueue` `exec-<executor>` (at least once:
 *   a job whose worker dies is run again by another one).
 * - A worker sends the outcome to the job's `reply` subject (a subject only
 *   its submitter listens to) as a request, and tries again a few times until
 *   the submitter confirms, so a short disconnection loses no result.
 * - Cancelling a future publishes the job id on `tsaio.x.<executor>.cancel`,
 *   which every worker of the executor listens to.
 *
 * @module
 */

import type { RemoteErrorInfo } from './errors.js';

/** One job in the queue. */
export interface JobMessage {
  id: string;
  fn: string;
  args: unknown[];
  reply: string;
}

/** What a worker sends back. */
export type JobOutcome =
  | { id: string; worker: string; ok: true; value: unknown }
  | { id: string; worker: string; ok: false; error: RemoteErrorInfo }
  | { id: string; worker: string; cancelled: true };

const NAME = /^[A-Za-z0-9_-]{1,100}$/;

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

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();
