import type { Command } from 'commander';
import { listAudit } from '../../scope/index.ts';
import { withWorkspace } from '../../store/index.ts';
import { globalOptions, printJson } from '../context.ts';

export function register(program: Command): void {
  program
    .command('audit')
    .description(
      'who computed, exported or read exposure data: when, which incident, how many rows, where to',
    )
    .option('--json', 'print as JSON')
    .option('--incident <id>', 'only this incident')
    .option('--limit <n>', 'only the newest N entries', (v) => Number.parseInt(v, 10))
    .action(async (flags: { json?: boolean; incident?: string; limit?: number }, cmd: Command) => {
      const { home, engine } = globalOptions(cmd);
      const rows = await withWorkspace(home, { command: 'audit', engineUrl: engine }, (ws) =>
        listAudit(ws.engine, {
          ...(flags.incident ? { incident: flags.incident } : {}),
          ...(flags.limit ? { limit: flags.limit } : {}),
        }),
      );
      if (flags.json) {
        printJson(rows);
        return;
      }
      if (rows.length === 0) process.stdout.write('no audit entries\n');
      for (const r of rows)
        process.stdout.write(
          `${r.at}  ${r.who.padEnd(12)} ${r.action.padEnd(16)} ${r.incident.padEnd(20)} ${String(r.rows).padStart(10)} rows  ${r.target}${r.detail ? `  (${r.detail})` : ''}\n`,
        );
    });
}
