import type { Command } from 'commander';
import { type Incident, listIncidents } from '../../detect/index.ts';
import { withWorkspace } from '../../store/index.ts';
import { globalOptions, printJson } from '../context.ts';

export function register(program: Command): void {
  program
    .command('incidents')
    .description('list incidents, most recently detected first')
    .option('--json', 'print as JSON (spec/interface.md)')
    .option('--findings <n>', 'findings per incident in --json (earliest first)', '100')
    .action(async (flags: { json?: boolean; findings: string }, cmd: Command) => {
      const { home, engine } = globalOptions(cmd);
      const limit = Math.max(0, Number.parseInt(flags.findings, 10) || 0);
      const incidents = await withWorkspace(home, { command: 'incidents', engineUrl: engine }, (ws) =>
        listIncidents(ws.engine, { findingsLimit: flags.json ? limit : 0 }),
      );
      if (flags.json) printJson(incidents);
      else process.stdout.write(renderTable(incidents));
    });
}

const fit = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
const short = (iso: string) => iso.replace('T', ' ').replace(/:\d\dZ$/, '');

/** One line per incident, within 100 columns. */
export function renderTable(incidents: Incident[]): string {
  if (incidents.length === 0) return 'no incidents\n';
  const out = [
    `${fit('ID', 16)} ${fit('SEVERITY', 8)} ${fit('STATUS', 6)} ${fit('DETECTED', 16)} ${fit('FINDINGS', 8)} TITLE`,
  ];
  for (const i of incidents) {
    const line = `${fit(i.id, 16)} ${fit(i.severity, 8)} ${fit(i.status, 6)} ${fit(short(i.detected_at), 16)} ${String(i.counts.findings).padStart(8)} `;
    // The entity first: it is what tells incidents apart when titles are cut short.
    const main = i.entities[0];
    const what = main ? `${main.type} ${main.id} · ${i.title.replace(/: .*$/, '')}` : i.title;
    out.push(line + fit(what, 100 - line.length).trimEnd());
  }
  return `${out.join('\n')}\n`;
}
