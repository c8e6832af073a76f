import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { glob, isDynamicPattern } from 'tinyglobby';
import { UserError } from '../cli/errors.ts';
import type { InputFile } from './ocsf/ingest.ts';

/** Files a folder contributes: log-like files, compressed or not. */
const LOG_EXTENSIONS = ['jsonl', 'ndjson', 'json', 'log', 'csv', 'txt'];
const LOG_FILE = new RegExp(`\\.(${LOG_EXTENSIONS.join('|')})(\\.gz)?$`, 'i');

/**
 * Turns what the user typed into files on disk: files as they are, folders walked for log files,
 * globs expanded, and `-` (stdin) spooled to a temporary file the engine can read. Sorted so
 * inputs are ingested in a predictable (usually chronological) order.
 */
export async function expandInputs(
  args: readonly string[],
  tmpDir = os.tmpdir(),
): Promise<{ files: InputFile[]; cleanup: () => void }> {
  const files: InputFile[] = [];
  const temps: string[] = [];
  for (const arg of args) {
    if (arg === '-') {
      const spool = path.join(tmpDir, `vigil-stdin-${process.pid}-${Date.now()}.jsonl`);
      await pipeline(process.stdin, fs.createWriteStream(spool));
      temps.push(spool);
      files.push({ path: spool, label: '-', bytes: fs.statSync(spool).size });
      continue;
    }
    // A path that exists is read as named, whatever characters it holds.
    if (isDynamicPattern(arg) && !fs.existsSync(arg)) {
      const matches = (await glob(arg, { absolute: true, onlyFiles: true })).sort();
      if (matches.length === 0)
        throw new UserError(
          `no files match ${arg}`,
          'Check the pattern (quote it so the shell does not expand it).',
        );
      for (const m of matches) files.push({ path: m, label: m, bytes: fs.statSync(m).size });
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(arg);
    } catch {
      throw new UserError(`no such file or folder: ${arg}`, 'Check the path.');
    }
    if (stat.isDirectory()) {
      const found = (await glob('**/*', { cwd: arg, absolute: true, onlyFiles: true }))
        .filter((f) => LOG_FILE.test(f))
        .sort();
      if (found.length === 0)
        throw new UserError(
          `no log files in ${arg}`,
          `A folder contributes files ending in ${LOG_EXTENSIONS.map((e) => `.${e}`).join(', ')} (each optionally .gz); give other files by name.`,
        );
      for (const f of found) files.push({ path: f, label: f, bytes: fs.statSync(f).size });
    } else {
      const abs = path.resolve(arg);
      files.push({ path: abs, label: abs, bytes: stat.size });
    }
  }
  return {
    files,
    cleanup: () => {
      for (const t of temps) fs.rmSync(t, { force: true });
    },
  };
}
