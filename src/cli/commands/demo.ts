import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type Incident, listIncidents, runDetection } from '../../detect/index.ts';
import { type ScopeSummary, scopeIncident } from '../../scope/index.ts';
import { evaluateDetection, readTruth } from '../../sim/eval/index.ts';

import { DEFAULTS, writeSimulation } from '../../sim/index.ts';
import { ingestInputs } from '../../sources/index.ts';
import { currentCatalog } from '../../sources/reference/index.ts';
import { openWorkspace } from '../../store/index.ts';
import { globalOptions, log, printJson } from '../context.ts';
import { UserError } from '../errors.ts';
import { formatRate } from '../progress.ts';

interface DemoFlags {
  port: string;
  serve: boolean;
  customers: string;
  days: string;
  seed: string;
  json?: boolean;
}

/** Marks a workspace as the demo's own, so a re-run may wipe it and nothing else ever is. */
const MARKER = '.vigil-demo';

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'the main job on the embedded store: simulate a month of shop traffic with a hidden Coupang-style breach, ingest, detect, scope, summarise, and serve the console',
    )
    .option('--port <n>', 'console port', '8470')
    .option('--no-serve', 'print the summary and exit')
    .option('--customers <n>', 'customers to simulate', String(DEFAULTS.customers))
    .option('--days <n>', 'days to simulate', String(DEFAULTS.days))
    .option('--seed <n>', 'random seed', String(DEFAULTS.seed))
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nThe workspace defaults to ./.vigil-demo (or --home); a re-run starts it afresh. A folder that is not a\ndemo workspace is never overwritten.',
    )
    .action(async (flags: DemoFlags, cmd: Command) => {
      const explicitHome = cmd.optsWithGlobals().home !== undefined || process.env.VIGIL_HOME !== undefined;
      const home = explicitHome ? globalOptions(cmd).home : path.resolve('.vigil-demo');
      prepareHome(home);
      const started = Date.now();
      const stage = (name: string, t0: number, detail: string) =>
        log(`demo: ${name.padEnd(9)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s  ${detail}`);

      // 1. Simulate: a month of traffic with the Coupang pattern hidden in it.
      const data = path.join(home, 'demo-data');
      let t = Date.now();
      log(`demo: simulating ${flags.customers} customers × ${flags.days} days (Coupang-pattern breach)…`);
      const sim = await writeSimulation(
        data,
        {
          customers: Number(flags.customers),
          days: Number(flags.days),
          seed: Number(flags.seed),
          start: DEFAULTS.start,
          scenarios: [{ name: 'coupang-forged-token' }],
          intensity: 1,
        },
        false,
      );
      stage('simulate', t, `${sim.events.toLocaleString('en')} events`);

      const ws = await openWorkspace(home, { command: 'demo' });
      let summary: DemoSummary;
      try {
        // 2. Ingest events and reference data.
        t = Date.now();
        const { counts } = await ingestInputs(ws, [path.join(data, 'events')], {
          reference: {
            people: path.join(data, 'people.csv'),
            keys: path.join(data, 'keys.csv'),
            services: path.join(data, 'services.csv'),
            catalog: path.join(data, 'catalog.yaml'),
          },
          onProgress: (p) =>
            process.stderr.isTTY &&
            process.stderr.write(
              `\rdemo: ingest    file ${p.filesDone}/${p.files}, ${formatRate(p.read / Math.max(p.seconds, 0.001))} events/s`,
            ),
        });
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
        stage(
          'ingest',
          t,
          `${counts.stored.toLocaleString('en')} stored, ${counts.quarantined} quarantined, ${counts.duplicates} duplicates`,
        );

        // 3. Detect, window by window, as if live.
        t = Date.now();
        const run = await runDetection(ws, {});
        const incidents = await listIncidents(ws.engine);
        stage(
          'detect',
          t,
          `${run.windows} windows, ${incidents.length} incident${incidents.length === 1 ? '' : 's'}`,
        );

        // 4. Scope every incident.
        t = Date.now();
        const scopes = new Map<string, ScopeSummary>();
        for (const incident of incidents)
          scopes.set(incident.id, await scopeIncident(ws, incident, { who: 'vigil demo' }));
        stage(
          'scope',
          t,
          `${[...scopes.values()].reduce((n, s) => n + s.subjects, 0).toLocaleString('en')} people`,
        );

        const delays = await evaluateDetection(ws, readTruth(data), incidents);
        summary = await summarise(ws, incidents, scopes, delays);
      } finally {
        await ws.close();
      }
      fs.writeFileSync(path.join(home, MARKER), new Date().toISOString());
      log(`demo: ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      if (flags.json) printJson(summary);
      else process.stdout.write(renderSummary(summary));

      if (!flags.serve) return;
      const { startServer } = await import('../../server/index.ts');
      const server = await startServer({ home, port: Number(flags.port) });
      if (server.adminToken) process.stdout.write(`admin token (shown once): ${server.adminToken}\n`);
      process.stdout.write(`vigil console: ${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => server.close().then(resolve, resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

function prepareHome(home: string): void {
  if (fs.existsSync(home) && fs.readdirSync(home).length > 0) {
    if (!fs.existsSync(path.join(home, MARKER))) {
      throw new UserError(
        `${home} is not empty and is not a demo workspace`,
        'Point --home at an empty folder (the demo starts its workspace afresh).',
      );
    }
    fs.rmSync(home, { recursive: true, force: true });
  }
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, MARKER), 'in progress');
}

export interface DemoSummary {
  incidents: {
    id: string;
    title: string;
    severity: string;
    first_seen: string;
    detected_at: string;
    detection_delay_seconds: number | null;
    subjects: number;
    by_confidence: { confirmed: number; probable: number };
    by_category: { category: string; label: string; people: number }[];
    by_operation: string[];
    not_exposed: { category: string; label: string; statement: string }[];
  }[];
}

async function summarise(
  ws: Awaited<ReturnType<typeof openWorkspace>>,
  incidents: Incident[],
  scopes: Map<string, ScopeSummary>,
  delays: Map<string, number>,
): Promise<DemoSummary> {
  const catalog = await currentCatalog(ws.engine);
  const label = (c: string) => catalog.categories.get(c) ?? c;
  return {
    incidents: incidents.map((i) => {
      const s = scopes.get(i.id)!;
      return {
        id: i.id,
        title: i.title,
        severity: i.severity,
        first_seen: i.first_seen,
        detected_at: i.detected_at,
        detection_delay_seconds: delays.get(i.id) ?? null,
        subjects: s.subjects,
        by_confidence: s.by_confidence,
        by_category: Object.entries(s.by_category)
          .sort((a, b) => b[1] - a[1])
          .map(([category, people]) => ({ category, label: label(category), people })),
        by_operation: s.by_operation.map((o) => o.text),
        not_exposed: s.not_exposed_evidence.map((n) => ({
          category: n.category,
          label: n.label,
          statement: n.statement,
        })),
      };
    }),
  };
}

function renderSummary(s: DemoSummary): string {
  const out: string[] = [''];
  if (s.incidents.length === 0) out.push('No incident was raised.');
  for (const i of s.incidents) {
    out.push(`${i.severity.toUpperCase()}  ${i.id}  ${i.title}`);
    out.push(`  first seen   ${i.first_seen}`);
    out.push(
      `  detected at  ${i.detected_at}${i.detection_delay_seconds === null ? '' : `  (${Math.round(i.detection_delay_seconds / 60)} min after the attack began)`}`,
    );
    out.push(
      `  exposed      ${i.subjects.toLocaleString('en')} people (${i.by_confidence.confirmed.toLocaleString('en')} confirmed, ${i.by_confidence.probable.toLocaleString('en')} probable)`,
    );
    for (const c of i.by_category)
      out.push(`    ${c.label.padEnd(24)} ${c.people.toLocaleString('en').padStart(10)}`);
    for (const o of i.by_operation.slice(0, 5)) out.push(`  ${o}`);
    if (i.not_exposed.length > 0) out.push(`  not exposed: ${i.not_exposed.map((n) => n.label).join(', ')}`);
    for (const n of i.not_exposed.slice(0, 4)) out.push(`    ${n.statement}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
