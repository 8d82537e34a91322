/**
 * Private: the streams and the consumer behind a queue, made when missing,
 * and its stored state (see `_layout.ts` for the names).
 *
 * @module
 */

import type { StreamConfig, StreamInfo } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy } from './_driver.js';
import { checkCount } from '../_lowlevel.js';
import type { Connection } from './connection.js';
import type { Layout } from './_layout.js';

const NANOS_PER_MS = 1_000_000;
/** The most copies JetStream keeps of a stream. */
const MAX_REPLICAS = 5;

/** The `replicas` option (default 1): an integer from 1 to 5 (JetStream's range), else a `RangeError`. */
export function checkReplicas(value: unknown, where: string): number {
  const replicas = checkCount(value, where, 'replicas', 1, 1);
  if (replicas > MAX_REPLICAS) {
    throw new RangeError(
      `${where}: replicas must be at most ${MAX_REPLICAS} (JetStream keeps 1 to 5 copies of a stream), received ${replicas}`,
    );
  }
  return replicas;
}

/** True for JetStream's "stream not found" / "consumer not found". */
export function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 10059 || code === 10014 || /not found/i.test((error as Error).message ?? '');
}

/** The stream `config.name`: made with `config` if it does not exist. */
export async function ensureStream(
  conn: Connection,
  config: Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  try {
    return await conn.jsm.streams.info(config.name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    return await conn.jsm.streams.add(config);
  } catch (error) {
    // Made by another process meanwhile?
    try {
      return await conn.jsm.streams.info(config.name);
    } catch {
      throw error;
    }
  }
}

/** The queue's one durable consumer; resolves with its ack wait in ms. */
export async function ensureConsumer(
  conn: Connection,
  layout: Layout,
  ackWait: number | undefined,
): Promise<number> {
  const wanted = (ackWait ?? 30_000) * NANOS_PER_MS;
  try {
    const info = await conn.jsm.consumers.info(layout.stream, layout.consumer);
    if (ackWait === undefined || info.config.ack_wait === wanted) {
      return (info.config.ack_wait ?? wanted) / NANOS_PER_MS;
    }
    await conn.jsm.consumers.update(layout.stream, layout.consumer, { ack_wait: wanted });
    return ackWait;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await conn.jsm.consumers.add(layout.stream, {
    durable_name: layout.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: wanted,
    max_deliver: -1,
    max_ack_pending: -1,
  });
  return wanted / NANOS_PER_MS;
}

/** The queue's stored state: shut down or not. */
export async function readState(conn: Connection, layout: Layout): Promise<false | 'drain' | 'immediate'> {
  let msg;
  try {
    msg = await conn.jsm.streams.getMessage(layout.ctlStream, { last_by_subj: layout.ctlSubject });
  } catch {
    return false;
  }
  if (msg === null) return false;
  try {
    const state = JSON.parse(new TextDecoder().decode(msg.data)) as { state?: string; immediate?: boolean };
    if (state.state !== 'shutdown') return false;
    return state.immediate === true ? 'immediate' : 'drain';
  } catch {
    return false;
  }
}
