/**
 * `tsaio serve`: runs the httpbin-style test server of `tsaio/http` until
 * Ctrl-C, with an access log on stderr (one line a request; `--quiet`: none).
 * The address is `--host`: `-H` means `--header` in every command, as in
 * curl, so `tsaio serve -H` is refused with a word on what to use.
 *
 * @module
 */

import { Option, type Command } from 'commander';
import { Event } from '../index.js';
import { startTestServer } from '../http/index.js';
import { EXIT, colorsFor, port, runCommand } from './_common.js';

/** What `tsaio serve` takes on the command line. */
interface ServeFlags {
  port: number;
  host: string;
  /** No access log. */
  quiet?: boolean;
  /** `-H`, which is not an option of serve: refused. */
  H?: string | true;
}

/** Adds `tsaio serve` to `program`. */
export function registerServe(program: Command): Command {
  // -H is --header, as in curl and tsaio fetch: taken here only to say so.
  const dashH = new Option('-H [value]').hideHelp();
  return program
    .command('serve')
    .description('run the httpbin-style test server (/get, /delay/:s, /status/:code, ...) until Ctrl-C')
    .option('-p, --port <n>', 'port to listen on (0: any free port)', port, 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .option('-q, --quiet', 'no access log (by default one line a request on stderr)')
    .addOption(dashH)
    .addHelpText(
      'after',
      '\nRoutes: /get /post /json /headers /ip /uuid /delay/:seconds /status/:code /bytes/:n /stream/:n\n' +
        '        /drip?numbytes=&duration=&delay= /redirect/:n /redirect-to?url=&status_code=\n' +
        '\nCaps (as httpbin): delay and drip duration 10 s, drip 10 MiB, stream 100 lines; /bytes 100 MiB;\n' +
        'request bodies 10 MiB (413 beyond). A parameter that is not a number answers 400.\n' +
        '\nExample:\n  $ tsaio serve --port 8080 &\n  $ tsaio bench --url http://127.0.0.1:8080',
    )
    .action(async (flags: ServeFlags, command: Command) => {
      if (flags.H !== undefined) {
        command.error(
          'error: -H is --header in tsaio fetch (as in curl); serve listens on --host <address>, e.g. --host 0.0.0.0',
          { exitCode: EXIT.USAGE },
        );
      }
      process.exitCode = await runCommand((signal) => serve(flags, signal));
    });
}

async function serve(flags: ServeFlags, signal: AbortSignal): Promise<number> {
  const colors = colorsFor(process.stdout);
  await using server = await startTestServer({
    port: flags.port,
    host: flags.host,
    ...(flags.quiet === true ? {} : { log: (line: string) => void process.stderr.write(`${line}\n`) }),
  });
  process.stdout.write(`tsaio test server listening on ${colors.bold(colors.cyan(server.url))}\n`);
  if (process.stdout.isTTY) process.stdout.write(colors.dim('press Ctrl-C to stop\n'));
  // Serve until cancelled (Ctrl-C): a wait on an event nobody sets.
  await new Event().wait({ signal });
  return 0;
}
