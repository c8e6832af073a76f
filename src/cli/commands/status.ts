import type { Command } from 'commander';
import { type WorkspaceStatus, workspaceStatus } from '../../sources/index.ts';
import { withWorkspace } from '../../store/index.ts';
import { globalOptions, printJson } from '../context.ts';
import { formatBytes } from '../progress.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description('events per day, quarantine by reason, reference data loaded, catalog gaps, workspace size')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const { home, engine } = globalOptions(cmd);
      const status = await withWorkspace(home, { command: 'status', engineUrl: engine }, workspaceStatus);
      if (flags.json) printJson(status);
      else process.stdout.write(renderStatus(status));
    });
}

export function renderStatus(s: WorkspaceStatus): string {
  const out: string[] = [];
  out.push(`workspace ${s.workspace} · ${s.engine} · ${formatBytes(s.size_bytes)}`);
  out.push(
    `events    ${s.events.total.toLocaleString('en')}${s.events.first ? `  ${s.events.first} → ${s.events.last}` : ''}`,
  );
  out.push(
    `ingested  ${s.ingests.inputs} inputs: read ${s.ingests.read}, stored ${s.ingests.stored}, quarantined ${s.ingests.quarantined}, duplicates ${s.ingests.duplicates}`,
  );
  if (s.events_per_day.length > 0) {
    out.push('', 'day          api-activity  authentication');
    const days =
      s.events_per_day.length > 14
        ? [...s.events_per_day.slice(0, 7), null, ...s.events_per_day.slice(-7)]
        : s.events_per_day;
    for (const d of days) {
      out.push(
        d
          ? `${d.day}  ${String(d.api_activity).padStart(12)}  ${String(d.authentication).padStart(14)}`
          : '  …',
      );
    }
  }
  out.push('', `quarantine ${s.quarantine.total}`);
  for (const [reason, n] of Object.entries(s.quarantine.by_reason)) out.push(`  ${reason.padEnd(20)} ${n}`);
  out.push('', 'reference data');
  if (s.reference.length === 0)
    out.push('  none loaded (vigil ingest --people/--keys/--services/--catalog/--settings)');
  for (const r of s.reference)
    out.push(`  ${r.kind.padEnd(9)} ${String(r.rows).padStart(7)} rows  loaded ${r.loaded_at}  ${r.file}`);
  out.push('', `catalog gaps ${s.catalog_gaps.length === 0 ? 'none' : ''}`);
  for (const g of s.catalog_gaps.slice(0, 20))
    out.push(`  ${g.operation.padEnd(48)} ${String(g.events).padStart(9)} events  last ${g.last_seen}`);
  return `${out.join('\n')}\n`;
}
