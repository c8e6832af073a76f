import type { Command } from 'commander';
import { recordAudit } from '../../scope/index.ts';
import { eventRecords } from '../../sources/index.ts';
import { withWorkspace } from '../../store/index.ts';
import { globalOptions, printJson } from '../context.ts';
import { UserError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('event')
    .description('stored events as they came in: source, line as read, and what Vigil does not map')
    .argument('<id...>', 'event ids (metadata.uid, or the derived h:… id)')
    .option('--json', 'print as JSON')
    .action(async (ids: string[], flags: { json?: boolean }, cmd: Command) => {
      const { home, engine } = globalOptions(cmd);
      const records = await withWorkspace(home, { command: 'event', engineUrl: engine }, async (ws) => {
        const found = await eventRecords(ws.engine, ids);
        // Lines hold personal data: a read of them is on the audit trail, as a count.
        await recordAudit(ws.engine, {
          role: 'cli',
          action: 'event.read',
          incident: '',
          rows: found.length,
          target: flags.json ? 'stdout (json)' : 'stdout',
        });
        return found;
      });
      const missing = ids.filter((id) => !records.some((r) => r.event_id === id));
      if (flags.json) printJson(records);
      else
        for (const r of records)
          process.stdout.write(
            `${r.event_id}  ${r.time}  ${r.source_file}:${r.source_line}\n` +
              `  line:     ${r.raw || '(none kept for this event)'}\n` +
              `  unmapped: ${r.unmapped || '(nothing)'}\n`,
          );
      if (missing.length > 0)
        throw new UserError(
          `no stored event with id ${missing.join(', ')}`,
          'Ids are metadata.uid as sent, or h:… for lines without one; findings list examples as example_event_ids (vigil incidents --json).',
        );
    });
}
