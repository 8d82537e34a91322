// The job module of examples/11-remote-executor.ts, served by
// `tsaio worker examples/jobs/sum.ts`: every exported function is a job.
import { currentJob } from 'tsaio/nats';

/**
 * The seed's cpu_heavy, for one slice: sum(i * i for i in range(start, end)).
 * The sum outgrows a double, so it is a bigint, sent back as decimal digits
 * (JSON has no bigint), with the worker that computed it.
 */
export function sumOfSquares(start: number, end: number): { sum: string; worker: string } {
  let sum = 0n;
  for (let i = start; i < end; i++) {
    const b = BigInt(i);
    sum += b * b;
  }
  return { sum: sum.toString(), worker: currentJob().worker };
}
