// Seed §6 "Event: Signal Notification". Mirrors:
//   async def waiter(event, name):
//       print(f"{name} waiting..."); await event.wait(); print(f"{name} received signal, continuing")
//   async def setter(event):
//       await asyncio.sleep(2); print("Triggering event!"); event.set()
//   await asyncio.gather(waiter(event, "W1"), waiter(event, "W2"), setter(event))
// One set() wakes every waiter, in the order they began waiting.
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/06-event.ts
import { run, sleep, gather, Event } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

async function waiter(event: Event, name: string, signal: AbortSignal): Promise<void> {
  console.log(`${name} waiting...`);
  await event.wait({ signal });
  console.log(`${name} received signal, continuing`);
}

async function setter(event: Event, signal: AbortSignal): Promise<void> {
  await sleep(2 * UNIT, undefined, { signal });
  console.log('Triggering event!');
  event.set();
}

await run(async () => {
  const start = performance.now();
  const event = new Event();
  await gather([
    (signal: AbortSignal) => waiter(event, 'W1', signal),
    (signal: AbortSignal) => waiter(event, 'W2', signal),
    (signal: AbortSignal) => setter(event, signal),
  ]);
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
