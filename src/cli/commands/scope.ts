import type { Command } from 'commander';
import { getIncident } from '../../detect/index.ts';
import { formatOf, type ScopeSummary, scopeIncident, writeExposureFile } from '../../scope/index.ts';
import { withWorkspace } from '../../store/index.ts';
import { globalOptions, log, printJson } from '../context.ts';
import { UserError } from '../errors.ts';
import { formatBytes, Progress } from '../progress.ts';

export function register(program: Command): void {
  program
    .command('scope')
    .description('compute who an incident exposed, with which data, when, and how surely')
    .argument('<incident>', 'incident id (see vigil incidents)')
    .option('--json', 'print the summary as JSON')
    .option('--out <file>', 'write one row per exposed subject (.jsonl, .csv or .parquet)')
    .option('--recompute', 'recompute even when a stored computation for the same data exists')
    .action(
      async (id: string, flags: { json?: boolean; out?: string; recompute?: boolean }, cmd: Command) => {
        const { home, engine } = globalOptions(cmd);
        if (flags.out) formatOf(flags.out);
        await withWorkspace(home, { command: `scope ${id}`, engineUrl: engine }, async (ws) => {
          const incident = await getIncident(ws.engine, id);
          if (!incident) throw new UserError(`no incident ${id}`, 'List them with vigil incidents.');
          const progress = new Progress('scope');
          progress.update('attributing events');
          const summary = await scopeIncident(ws, incident, flags.recompute ? { recompute: true } : {});
          progress.done(
            `${summary.reused ? 'reused' : 'computed'} ${summary.computation_id}: ${summary.subjects.toLocaleString('en')} subjects${summary.reused ? '' : ` in ${summary.seconds.toFixed(1)} s`}`,
          );
          if (flags.out) {
            const r = await writeExposureFile(ws, incident, flags.out, {
              computation: summary.computation_id,
            });
            // Counts and the destination only: subject ids never go to logs.
            log(
              `wrote ${r.rows.toLocaleString('en')} rows (${formatBytes(r.bytes)}) to ${r.file} in ${r.seconds.toFixed(1)} s`,
            );
          }
          if (flags.json) printJson(summary);
          else process.stdout.write(renderScope(summary));
        });
      },
    );
}

const n = (x: number) => x.toLocaleString('en');

export function renderScope(s: ScopeSummary): string {
  const out: string[] = [];
  out.push(`incident ${s.incident} · computation ${s.computation_id} (${s.computed_at})`);
  out.push(
    `${n(s.subjects)} people exposed: ${n(s.by_confidence.confirmed)} confirmed, ${n(s.by_confidence.probable)} probable` +
      ` (${
        Object.entries(s.by_subject_type)
          .map(([t, c]) => `${n(c)} ${t}s`)
          .join(', ') || 'none'
      })`,
  );
  if (s.first_exposed) out.push(`from ${s.first_exposed} to ${s.last_exposed}`);
  out.push('', 'by category');
  for (const [c, k] of Object.entries(s.by_category)) out.push(`  ${c.padEnd(16)} ${n(k).padStart(12)}`);
  out.push('', 'not affected');
  for (const e of s.not_exposed_evidence) out.push(`  ${e.statement}`);
  if (s.catalog_gaps.length > 0) {
    out.push('', 'operations the catalog does not know (may expose anything)');
    for (const g of s.catalog_gaps) out.push(`  ${g.operation.padEnd(40)} ${n(g.events)} events`);
  }
  out.push('', 'by operation');
  for (const o of s.by_operation) out.push(`  ${o.text}`);
  out.push('', 'by origin (country, network)');
  for (const o of s.by_origin.slice(0, 10))
    out.push(
      `  ${(o.country || '??').padEnd(3)} AS${String(o.asn).padEnd(8)} ${o.as_org.slice(0, 30).padEnd(30)} ${n(o.events).padStart(10)} events ${n(o.addresses).padStart(6)} addresses ${n(o.people).padStart(10)} people`,
    );
  out.push('', 'by day');
  const days = s.by_day.length > 14 ? [...s.by_day.slice(0, 7), null, ...s.by_day.slice(-7)] : s.by_day;
  for (const d of days)
    out.push(d ? `  ${d.day} ${n(d.events).padStart(10)} events ${n(d.people).padStart(10)} people` : '  …');
  out.push('', 'how the attacker was followed');
  for (const e of s.expansion)
    out.push(
      `  [${e.round}] ${e.entity.type} ${e.entity.id} (${e.origin}): ${e.verdict}${e.events ? `, +${n(e.events)} events` : ''} — ${e.reason}`,
    );
  return `${out.join('\n')}\n`;
}
