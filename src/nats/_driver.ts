/**
 * Private: the NATS client (`@nats-io/transport-node` and
 * `@nats-io/jetstream`), optional peer dependencies of tsaio, loaded when
 * `tsaio/nats` is imported (an error that says what to `npm i` when one is
 * missing). Types come from the packages; the values tsaio uses, from here.
 *
 * @module
 */

import type * as JetStream from '@nats-io/jetstream';
import type * as Transport from '@nats-io/transport-node';
import { loadDriver } from '../_lowlevel.js';

const PACKAGES = ['@nats-io/transport-node', '@nats-io/jetstream'];

const transport = loadDriver('@nats-io/transport-node', 'tsaio/nats', PACKAGES) as typeof Transport;
const js = loadDriver('@nats-io/jetstream', 'tsaio/nats', PACKAGES) as typeof JetStream;

export const { connect: natsConnect, headers, nuid } = transport;
export const {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} = js;
