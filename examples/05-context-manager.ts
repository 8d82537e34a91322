// Seed §5 "Async Context Managers". Mirrors:
//   class AsyncDBConnection:
//       async def __aenter__(self): print("Connecting to database"); ...
//       async def __aexit__(self, exc_type, exc, tb): print("Closing connection"); ...
//   async with AsyncDBConnection() as conn: await conn.execute("SELECT 1")
// In tsaio, `async with x as h:` is `await using h = await x.acquire()`:
// acquire() does __aenter__'s work and returns an AsyncDisposable handle whose
// [Symbol.asyncDispose]() is __aexit__. It runs even when the block throws.
// Run: npm run example examples/05-context-manager.ts
import { run, sleep } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

/** A pretend database connection. */
class Connection implements AsyncDisposable {
  async execute(sql: string): Promise<void> {
    await sleep(0.1 * UNIT);
    console.log(`Executed: ${sql}`);
  }
  async close(): Promise<void> {
    await sleep(0.1 * UNIT);
  }
  async [Symbol.asyncDispose](): Promise<void> {
    console.log('Closing connection');
    await this.close();
  }
}

class AsyncDBConnection {
  async acquire(): Promise<Connection> {
    console.log('Connecting to database');
    await sleep(0.1 * UNIT); // create_connection()
    return new Connection();
  }
}

await run(async () => {
  {
    await using conn = await new AsyncDBConnection().acquire();
    await conn.execute('SELECT 1');
  } // Closing connection

  // The handle is disposed on the way out of a failing block too.
  try {
    await using conn = await new AsyncDBConnection().acquire();
    await conn.execute('SELECT broken');
    throw new Error('query failed');
  } catch (e) {
    console.log(`Caught: ${(e as Error).message}`);
  }
});
