// Seed §2 "Core Concepts / Coroutines". Mirrors:
//   coro = say_hello()          # calling doesn't execute, just a coroutine object
//   print(type(coro))           # <class 'coroutine'>
//   asyncio.run(say_hello())    # this prints Hello
//
// In tsaio the "coroutine object" is a task body: an async function that has
// not been called. Holding it runs nothing; run(), createTask() or gather()
// run it. (Calling a JS async function would start it at once, up to its
// first await: pass the body, not the call.)
// Run: npm run example examples/02-coroutines.ts
import { run } from 'tsaio';

async function sayHello(): Promise<void> {
  console.log('Hello');
}

const coro = sayHello; // not run: nothing printed
console.log(`typeof coro: ${typeof coro}`);
console.log('Nothing has run yet');

await run(coro); // this prints Hello
