/**
 * Private: node-postgres, an optional peer dependency of tsaio, loaded when
 * `tsaio/pg` is imported (an error that says `npm i pg` when it is missing).
 *
 * @module
 */

import type Pg from 'pg';
import { loadDriver } from '../_lowlevel.js';

/** The `pg` module. */
export const pg = loadDriver('pg', 'tsaio/pg') as typeof Pg;
