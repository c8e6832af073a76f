import os from 'node:os';
import type { Command } from 'commander';
import { detectorById, detectors, type RunSummary, runDetection } from '../../detect/index.ts';
import { precomputeViews } from '../../server/index.ts';
import { withWorkspace } from '../../store/index.ts';
import { globalOptions, printJson } from '../context.ts';
import { UserError } from '../errors.ts';
import { formatRate, Progress } from '../progress.ts';

interface DetectFlags {
  since?: string;
  until?: string;
  window?: string;
  detectors?: string;
  views?: boolean;
  json?: boolean;
}

/** How far `detect` brought the incidents' console views and scopes (see server/views.ts). */
interface ViewsRun {
  incidents: number;
  computed: number;
  seconds: number;
}

/** "5m", "300s", "1h", "300" (seconds) → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|sec|m|min|h|d)?$/i.exec(text.trim());
  if (!m) throw new UserError(`cannot read duration "${text}"`, 'Use e.g. 300s, 5m, 1h.');
  const unit = (m[2] ?? 's').toLowerCase();
  const mult = unit.startsWith('s') ? 1 : unit.startsWith('m') ? 60 : unit === 'h' ? 3600 : 86_400;
  const seconds = Number(m[1]) * mult;
  if (seconds < 1 || 86_400 % seconds !== 0)
    throw new UserError(`window ${text} does not divide a day`, 'Use e.g. 1m, 5m, 15m, 1h.');
  return seconds;
}

function parseTime(text: string, flag: string): Date {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime()))
    throw new UserError(
      `cannot read ${flag} "${text}"`,
      'Use an ISO time, e.g. 2025-06-24T03:00:00Z or 2025-06-24.',
    );
  return d;
}

export function register(program: Command): void {
  program
    .command('detect')
    .description('run detection over the stored events in event-time order, window by window, as if live')
    .option('--since <time>', 'do not judge windows before this event time (ISO)')
    .option('--until <time>', 'do not judge windows ending after this event time (ISO)')
    .option('--window <duration>', 'window length, e.g. 5m (default from settings, 5m)')
    .option('--detectors <ids>', 'only these detectors (comma-separated ids); default all')
    .option('--no-views', "do not bring open incidents' scope and console views up to date afterwards")
    .option('--json', 'print the run summary as JSON')
    .addHelpText(
      'after',
      '\nIdempotent and checkpointed: a second run over the same data creates nothing; after more data\n' +
        'arrives it continues where it stopped; late events within the allowance are judged again.\n' +
        'A new or changed detector replays from the start. Windows are judged only once complete.\n' +
        'Afterwards every open incident whose data changed is scoped and its console views computed,\n' +
        'so `vigil serve` opens on results (--no-views skips this).',
    )
    .action(async (flags: DetectFlags, cmd: Command) => {
      const { home, engine } = globalOptions(cmd);
      const opts = {
        ...(flags.since ? { since: parseTime(flags.since, '--since') } : {}),
        ...(flags.until ? { until: parseTime(flags.until, '--until') } : {}),
        ...(flags.window ? { windowSeconds: parseDuration(flags.window) } : {}),
        ...(flags.detectors ? { detectors: parseDetectors(flags.detectors) } : {}),
      };
      const progress = new Progress('detect');
      const [summary, views] = await withWorkspace(
        home,
        { command: 'detect', engineUrl: engine },
        async (ws) => {
          const run = await runDetection(ws, {
            ...opts,
            onProgress: (p) =>
              progress.update(
                `${formatRate(p.windowsPerSecond)} windows/s, event time ${p.eventTime}, ${p.windows} windows`,
              ),
          });
          progress.done();
          if (flags.views === false) return [run, null] as const;
          const started = Date.now();
          const viewing = new Progress('views');
          const done = await precomputeViews(ws, {
            asker: { who: `${os.userInfo().username} (vigil detect)`, role: 'cli' },
            progress: (n, total) => viewing.update(`incident ${n}/${total} scoped, timeline and entities`),
          });
          viewing.done();
          return [run, { ...done, seconds: (Date.now() - started) / 1000 }] as const;
        },
      );
      if (flags.json) printJson(views ? { ...summary, views } : summary);
      else process.stdout.write(render(summary, views));
    });
}

function parseDetectors(text: string): string[] {
  const ids = text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const unknown = ids.filter((id) => !detectorById(id));
  if (unknown.length > 0)
    throw new UserError(
      `unknown detector ${unknown.join(', ')}`,
      `Known: ${detectors.map((d) => d.meta.id).join(', ')}.`,
    );
  return ids;
}

function render(s: RunSummary, views: ViewsRun | null): string {
  const lines = [
    `judged ${s.windows} windows${s.late_windows ? ` (+${s.late_windows} re-checked for late arrivals)` : ''} in ${s.seconds.toFixed(1)}s` +
      `${s.event_time_reached ? `, up to ${s.event_time_reached}` : ''}`,
    `findings: ${s.findings_new} new, ${s.findings_updated} updated; incidents: ${s.incidents_new} new, ${s.incidents_updated} updated`,
  ];
  for (const d of s.detectors) {
    const span = d.from ? `${d.from} → ${d.to}${d.replayed ? ' (replay)' : ''}` : 'up to date';
    lines.push(`  ${d.id.padEnd(20)} ${span}  ${d.findings} findings`);
  }
  if (views)
    lines.push(
      `views: ${views.incidents} open incidents up to date (${views.computed} scopes and views computed in ${views.seconds.toFixed(1)}s)`,
    );
  return `${lines.join('\n')}\n`;
}
