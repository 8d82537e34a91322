// Every workload, in the order of docs/benchmarks.md: what the runner runs
// and what test/bench-verdicts.test.ts checks bench/targets.json against.
import type { Workload } from './_workload.ts';
import { w2 } from './w2-tasks.ts';
import { w3 } from './w3-semaphore.ts';
import { w3b } from './w3b-map.ts';
import { w4 } from './w4-queue.ts';
import { w5 } from './w5-lock.ts';
import { w6 } from './w6-sleep.ts';
import { w7 } from './w7-http.ts';
import { w8 } from './w8-pg.ts';
import { w9 } from './w9-files.ts';
import { w10 } from './w10-cpu.ts';
import { w11 } from './w11-nats.ts';
import { w12 } from './w12-sqlite.ts';

export const WORKLOADS: Workload[] = [w2, w3, w3b, w4, w5, w6, w7, w8, w9, w10, w11, w12];
