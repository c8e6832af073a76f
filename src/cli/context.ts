import path from 'node:path';
import type { Command } from 'commander';

/** Options every command understands (declared once on the root program). */
export interface GlobalOptions {
  home: string;
  engine?: string;
}

/** Resolves the workspace directory: --home, then VIGIL_HOME, then ./.vigil. */
export function globalOptions(cmd: Command): GlobalOptions {
  const root = cmd.optsWithGlobals() as { home?: string; engine?: string };
  const home = path.resolve(root.home ?? process.env.VIGIL_HOME ?? '.vigil');
  const engine = root.engine ?? process.env.VIGIL_ENGINE;
  return engine ? { home, engine } : { home };
}

/** Progress and logs go to stderr so `--json` output on stdout stays one clean document. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
