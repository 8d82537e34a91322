/**
 * Private: the debug flag, read by the hot paths as one property load.
 * `run(main, { debug: true })`, `loop.setDebug(true)` or `TSAIO_DEBUG=1` set it.
 *
 * @module
 */

function fromEnv(): boolean {
  const value = process.env['TSAIO_DEBUG'];
  return value !== undefined && value !== '' && value !== '0';
}

/** The loop's debug mode and its slow-callback threshold (ms). */
export const debugState = { enabled: fromEnv(), slowCallbackDuration: 100 };
