/**
 * Private: where errors that have no caller go (a throwing done-callback or
 * `callSoon` callback). The loop facade installs its exception handler here;
 * until then they are printed.
 *
 * @module
 */

/** What an exception handler receives, as in `loop.call_exception_handler`. */
export interface ErrorContext {
  message: string;
  exception?: unknown;
  [key: string]: unknown;
}

let reporter: (context: ErrorContext) => void = (context) => {
  console.error(context.message, context.exception ?? '');
};

/** Hands `context` to the loop's exception handler. */
export function reportError(context: ErrorContext): void {
  reporter(context);
}

/** Sets the function `reportError` calls. */
export function setReporter(fn: (context: ErrorContext) => void): void {
  reporter = fn;
}
