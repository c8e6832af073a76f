import type { Command } from 'commander';
import { type IngestProgress, ingestInputs } from '../../sources/index.ts';
import { withWorkspace } from '../../store/index.ts';
import { globalOptions, log, printJson } from '../context.ts';
import { UserError } from '../errors.ts';
import { formatBytes, formatDuration, formatRate, Progress } from '../progress.ts';

interface IngestFlags {
  format: string;
  fieldMap?: string;
  people?: string;
  keys?: string;
  services?: string;
  catalog?: string;
  settings?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('ingest')
    .description(
      'load events (files, folders, globs, - for stdin; .gz too) and reference data into the workspace',
    )
    .argument('[paths...]', 'event inputs')
    .option('--format <format>', 'input format: ocsf, nginx, envoy, pgaudit, cloudtrail', 'ocsf')
    .option('--field-map <file>', 'YAML/JSON map of event fields to log keys (nginx, envoy)')
    .option('--people <file>', 'HR roster (people.csv)')
    .option('--keys <file>', 'signing-key inventory (keys.csv)')
    .option('--services <file>', 'service accounts (services.csv)')
    .option('--catalog <file>', 'data catalog (catalog.yaml)')
    .option('--settings <file>', 'site settings (YAML)')
    .option('--json', 'print the counts as JSON')
    .addHelpText(
      'after',
      '\nPrints read, stored, quarantined and duplicates; read = stored + quarantined + duplicates.\n' +
        'Re-ingesting the same input stores nothing twice. Malformed lines go to the quarantine with their reason.',
    )
    .action(async (paths: string[], flags: IngestFlags, cmd: Command) => {
      const reference = {
        people: flags.people,
        keys: flags.keys,
        services: flags.services,
        catalog: flags.catalog,
        settings: flags.settings,
      };
      if (paths.length === 0 && Object.values(reference).every((v) => v === undefined)) {
        throw new UserError(
          'nothing to ingest',
          'Give event paths and/or --people/--keys/--services/--catalog/--settings (see vigil ingest --help).',
        );
      }
      const { home, engine } = globalOptions(cmd);
      const progress = new Progress('ingest');
      // Ingest reports after each batch or piece (up to 1 GiB, several seconds); in between, the
      // line is redrawn every second so that a long parse still shows its time going by.
      let last: IngestProgress | undefined;
      const show = () => {
        if (!last) return;
        const seconds = progress.elapsedSeconds;
        const p = last;
        const eta =
          p.bytesDone > 0
            ? Math.max(0, (seconds * (p.bytes - p.bytesDone)) / p.bytesDone)
            : Number.POSITIVE_INFINITY;
        const rate = p.read > 0 ? `${formatRate(p.read / Math.max(seconds, 0.001))} events/s, ` : '';
        progress.update(
          `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytes)}, file ${p.filesDone}/${p.files}, ${rate}${formatDuration(seconds)} elapsed, ETA ${formatDuration(eta)}`,
        );
      };
      const ticker = setInterval(show, 1000);
      const result = await withWorkspace(home, { command: 'ingest', engineUrl: engine }, (ws) =>
        ingestInputs(ws, paths, {
          format: flags.format,
          ...(flags.fieldMap ? { fieldMap: flags.fieldMap } : {}),
          reference,
          onProgress: (p) => {
            last = p;
            show();
          },
        }),
      ).finally(() => clearInterval(ticker));
      progress.done();
      for (const load of result.reference) log(`loaded ${load.kind}: ${load.rows} rows from ${load.file}`);
      if (flags.json) {
        printJson(result.counts);
      } else if (paths.length > 0) {
        const c = result.counts;
        const reasons = Object.entries(c.by_reason)
          .map(([r, n]) => `${r} ${n}`)
          .join(', ');
        process.stdout.write(
          `read ${c.read}, stored ${c.stored}, quarantined ${c.quarantined}${reasons ? ` (${reasons})` : ''}, duplicates ${c.duplicates}` +
            ` in ${progress.elapsedSeconds.toFixed(1)}s\n`,
        );
      }
    });
}
