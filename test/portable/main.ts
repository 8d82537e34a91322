// The entry the other runtimes run (bundled by test/runtimes.test.ts): runs
// every portable check and reports the outcomes — printed as one line on
// stdout in Deno and Bun, posted to the page's server in a browser.
import { runChecks } from './checks.ts';

const MARK = 'TSAIO-PORTABLE ';
const outcomes = await runChecks();
const text = JSON.stringify(outcomes);
if ('document' in globalThis) {
  await fetch('/results', { method: 'POST', body: text });
} else {
  console.log(MARK + text);
}
