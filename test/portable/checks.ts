// Every portable check, registered (import for the side effect), and the runner.
import './tasks.ts';
import './sync.ts';
import './queues.ts';
import './iterables.ts';
import './debug.ts';
import './virtual.ts';

export { checks, runCheck, runChecks, type Outcome } from './_runner.ts';
