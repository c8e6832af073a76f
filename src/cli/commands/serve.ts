import type { Command } from 'commander';
import { isRole, ROLES, startServer, TokenStore } from '../../server/index.ts';
import { withWorkspace } from '../../store/index.ts';
import { globalOptions, log } from '../context.ts';
import { UserError } from '../errors.ts';

interface ServeFlags {
  port: string;
  host: string;
  watch?: string;
  window?: string;
  newToken?: string;
  name?: string;
}

/** "30s", "5m", "1h", "1d" → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UserError(`cannot read the duration "${text}"`, 'Use e.g. 60s, 5m, 1h or 1d.');
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  if (n <= 0) throw new UserError('the window must be longer than zero', 'Use e.g. 5m.');
  return n;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('API, continuous intake and detection, and the web console')
    .option('--port <n>', 'port to listen on (0 = any free port)', '8470')
    .option(
      '--host <addr>',
      'address to listen on (keep it on loopback unless behind a TLS proxy)',
      '127.0.0.1',
    )
    .option('--watch <dir>', 'ingest new files that appear in this folder')
    .option('--window <duration>', 'detection window in event time (default: the site settings, 5m)')
    .option('--new-token <role>', `create a token (${ROLES.join(', ')}), print it once, and exit`)
    .option('--name <name>', 'who the new token is for (with --new-token)', 'cli')
    .addHelpText(
      'after',
      '\nOn first start an admin token is created and printed once; keep it. Every /api call needs\n' +
        '"Authorization: Bearer <token>". Admins create more tokens with --new-token (server stopped)\n' +
        'or POST /api/tokens {"role", "name"} (server running). Stop the server with Ctrl-C.',
    )
    .action(async (flags: ServeFlags, cmd: Command) => {
      const { home, engine } = globalOptions(cmd);
      if (flags.newToken !== undefined) {
        const role = flags.newToken;
        if (!isRole(role)) throw new UserError(`unknown role "${role}"`, `Roles: ${ROLES.join(', ')}.`);
        const created = await withWorkspace(home, { command: 'serve --new-token', engineUrl: engine }, (ws) =>
          new TokenStore(ws.engine).create(role, flags.name ?? 'cli', 'cli'),
        );
        log(`created ${created.role} token ${created.token_id} for "${created.name}"; it is shown once:`);
        process.stdout.write(`${created.token}\n`);
        return;
      }
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UserError(`bad port "${flags.port}"`, 'Use a number from 0 to 65535.');
      const server = await startServer({
        home,
        engineUrl: engine,
        host: flags.host,
        port,
        watch: flags.watch,
        windowSeconds: flags.window ? parseDuration(flags.window) : undefined,
      });
      if (server.adminToken) {
        process.stdout.write(
          `admin token (shown once, keep it; create more with POST /api/tokens): ${server.adminToken}\n`,
        );
      }
      process.stdout.write(`vigil console: ${server.url}\n`);
      if (flags.watch) log(`watching ${flags.watch} for new log files`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          log('stopping…');
          server.close().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
