// Seed §12 "Event Loop Internals": getting the loop and scheduling callbacks. Mirrors:
//   loop = asyncio.get_running_loop()
//   loop.call_soon(print, "Execute immediately")
//   loop.call_later(2.0, print, "Execute after 2 seconds")
//   loop.call_at(loop.time() + 5.0, print, "Execute after 5 seconds")
//   await asyncio.sleep(3)
// main() returns after 3 units, so the 5-unit callback never runs: asyncio.run()
// closes its loop; tsaio's loop is Node's own and outlives run(), so we cancel
// the handle we no longer want.
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/12-call-soon-later-at.ts
import { run, sleep, getRunningLoop } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;
const start = performance.now();
const print = (msg: string): void =>
  console.log(`[${((performance.now() - start) / UNIT).toFixed(1)}s] ${msg}`);

await run(async (signal) => {
  const loop = getRunningLoop(); // inside a task (recommended)

  // Next iteration of the loop (a plain function, not a coroutine)
  loop.callSoon(print, 'Execute immediately');
  // Delayed execution (ms)
  loop.callLater(2 * UNIT, print, 'Execute after 2 seconds');
  // At a loop.time() timestamp (ms)
  const at5 = loop.callAt(loop.time() + 5 * UNIT, print, 'Execute after 5 seconds');

  await sleep(3 * UNIT, undefined, { signal });
  at5.cancel();
  print(`main done; 5-second callback cancelled: ${at5.cancelled()}`);
});
