/**
 * Private: how PostgreSQL values become JavaScript values and back (the
 * table in docs/pg.md). Results are read by node-postgres's text parsers
 * with the overrides below; parameters are checked and turned into what
 * node-postgres sends.
 *
 * @module
 */

import { pg } from './_driver.js';
import { describe } from '../_lowlevel.js';

type Parser = (text: string) => unknown;

const OID = {
  int8: 20,
  int8Array: 1016,
  numericArray: 1231,
  date: 1082,
  dateArray: 1182,
  timestamp: 1114,
  timestampArray: 1115,
  timestamptz: 1184,
  interval: 1186,
  intervalArray: 1187,
  textArray: 1009,
} as const;

const base = (oid: number): Parser => pg.types.getTypeParser(oid, 'text') as Parser;
const timestamptz = base(OID.timestamptz);

/** pg-types 2's array parser (its typings describe a later version's). */
const arrayParser = pg.types.arrayParser as unknown as {
  create(text: string, element: Parser): { parse(): unknown[] };
};

/** A PostgreSQL array literal parsed with `element` applied to each non-null item. */
function arrayOf(element: Parser): Parser {
  return (text) => arrayParser.create(text, element).parse();
}

/** `timestamp` (no time zone) read as UTC, so that the result does not depend on the process's time zone. */
function timestampUtc(text: string): unknown {
  if (text === 'infinity' || text === '-infinity') return timestamptz(text);
  const bc = text.endsWith(' BC');
  return timestamptz(bc ? `${text.slice(0, -3)}+00 BC` : `${text}+00`);
}

const identity: Parser = (text) => text;

const OVERRIDES = new Map<number, Parser>([
  [OID.int8, (text) => BigInt(text)],
  [OID.int8Array, arrayOf((text) => BigInt(text))],
  [OID.numericArray, arrayOf(identity)],
  [OID.date, identity],
  [OID.dateArray, arrayOf(identity)],
  [OID.timestamp, timestampUtc],
  [OID.timestampArray, arrayOf(timestampUtc)],
  [OID.interval, identity],
  [OID.intervalArray, arrayOf(identity)],
]);

/** The `types` option of a node-postgres `Client`: tsaio's overrides, then node-postgres's parsers. */
export const typeParsers = {
  getTypeParser(oid: number, format?: string): Parser {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary') as Parser;
    return OVERRIDES.get(oid) ?? base(oid);
  },
};

/**
 * A parameter as node-postgres should send it: `Date`s (also inside arrays)
 * as UTC ISO strings; everything else as node-postgres sends it (objects as
 * JSON, arrays as PostgreSQL arrays, `bigint` and numbers as text, bytes as
 * bytea). Throws a `TypeError` for a value that has no PostgreSQL form.
 */
export function toParam(value: unknown, where: string, index: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return value;
    case 'function':
    case 'symbol':
      throw new TypeError(
        `${where}: parameter $${index + 1} cannot be sent to PostgreSQL, received ${describe(value)}`,
      );
  }
  if (value === null) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new RangeError(`${where}: parameter $${index + 1} is an invalid Date`);
    return value.toISOString();
  }
  if (Array.isArray(value)) return value.map((item) => toParam(item, where, index));
  return value;
}
