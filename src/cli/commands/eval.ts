import type { Command } from 'commander';
import { type EvalReport, evaluate } from '../../sim/eval/index.ts';
import { log, printJson } from '../context.ts';
import { Progress } from '../progress.ts';

export function register(program: Command): void {
  program
    .command('eval')
    .description(
      'ingest a simulated folder into a fresh workspace, detect, scope, and score against its truth.json',
    )
    .argument('<dir>', 'a folder written by vigil simulate')
    .option(
      '--keep <dir>',
      'keep the evaluation workspace in this folder (default: a temporary one, removed after)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, flags: { keep?: string; json?: boolean }) => {
      const progress = new Progress('eval', 0);
      const report = await evaluate(dir, {
        ...(flags.keep ? { home: flags.keep } : {}),
        onStage: (stage, detail) =>
          log(`eval: ${stage} (${detail}) at ${progress.elapsedSeconds.toFixed(1)}s`),
      });
      if (flags.json) printJson(report);
      else process.stdout.write(renderEval(report));
    });
}

const pct = (x: number | null) => (x === null ? '   –  ' : `${(x * 100).toFixed(1).padStart(5)}%`);

function delay(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.round(seconds);
  return s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${(s / 3600).toFixed(1)}h`;
}

export function renderEval(r: EvalReport): string {
  const lines = [
    'scenario                        detected  delay    subj.prec subj.rec  pair.prec pair.rec  affected  scoped',
  ];
  for (const s of r.scenarios) {
    lines.push(
      `${s.id.padEnd(31)} ${(s.detected ? 'yes' : 'NO').padEnd(9)} ${delay(s.delay_seconds).padEnd(8)} ${pct(s.scope_precision)}    ${pct(s.scope_recall)}   ${pct(s.pair_precision)}    ${pct(s.pair_recall)}  ${String(s.affected).padStart(8)}  ${String(s.scoped).padStart(6)}`,
    );
  }
  lines.push(
    '',
    `incidents ${r.incidents}, false positives ${r.false_positive_incidents} over ${r.benign_days} days`,
    ...r.false_positives.map((f) => `  false positive: ${f.id} [${f.severity}] ${f.title}`),
    `events read ${r.events.read}, stored ${r.events.stored}; ingest ${r.seconds.ingest.toFixed(1)}s, detect ${r.seconds.detect.toFixed(1)}s, scope ${r.seconds.scope.toFixed(1)}s`,
  );
  return `${lines.join('\n')}\n`;
}
