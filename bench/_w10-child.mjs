// The child of W10's `raw-fork` variant: the least a process pool does.
// It runs the job module on each message and sends the result back.
import process from 'node:process';
import cpuHeavy from './_w10-job.mjs';

process.on('message', (n) => process.send(cpuHeavy(n)));
