import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../cli/errors.ts';
import { ChdbEngine, WorkspaceLockedError } from './chdb.ts';
import type { Engine } from './engine.ts';
import { migrate } from './migrate.ts';

/** Who holds a workspace: written on open so a second process can say whom it is waiting for. */
export interface Holder {
  pid: number;
  command: string;
  since: string;
  url?: string;
}

export interface Workspace {
  readonly home: string;
  readonly engine: Engine;
  close(): Promise<void>;
}

const holderFile = (home: string) => path.join(home, 'holder.json');

export function readHolder(home: string): Holder | null {
  try {
    return JSON.parse(fs.readFileSync(holderFile(home), 'utf8')) as Holder;
  } catch {
    return null;
  }
}

/** True when `pid` runs and (where /proc tells) is a Node process, so a reused pid is not mistaken for a holder. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true;
  }
}

/** Records extra facts about this process's hold on the workspace (e.g. the server URL). */
export function updateHolder(home: string, extra: Partial<Holder>): void {
  const current = readHolder(home);
  if (current?.pid === process.pid)
    fs.writeFileSync(holderFile(home), JSON.stringify({ ...current, ...extra }));
}

export interface OpenOptions {
  /** What this process is doing, shown to anyone who finds the workspace busy. */
  command?: string;
  /** clickhouse://… to use a server instead of the embedded store. */
  engineUrl?: string;
}

/** Opens (creating if needed) a workspace and brings its schema up to date. */
export async function openWorkspace(home: string, opts: OpenOptions = {}): Promise<Workspace> {
  fs.mkdirSync(home, { recursive: true });
  let engine: Engine;
  if (opts.engineUrl) {
    const { ClickHouseServerEngine } = await import('./clickhouse.ts');
    engine = await ClickHouseServerEngine.connect(opts.engineUrl);
  } else {
    acquireHold(home, opts.command);
    // The store holds personal data (every event, each line as read, who was exposed): only the
    // workspace's owner may read it, whatever the umask (an existing store is tightened too).
    const store = path.join(home, 'store');
    fs.mkdirSync(store, { recursive: true, mode: 0o700 });
    fs.chmodSync(store, 0o700);
    try {
      engine = ChdbEngine.open(store);
    } catch (err) {
      fs.rmSync(holderFile(home), { force: true });
      if (err instanceof WorkspaceLockedError) throw busyError(home);
      throw err;
    }
  }
  await migrate(engine);
  return {
    home,
    engine,
    async close() {
      await engine.close();
      const h = readHolder(home);
      if (h?.pid === process.pid) fs.rmSync(holderFile(home), { force: true });
    },
  };
}

/**
 * chDB does not always stop a second process from opening the same data directory, and two writers
 * would corrupt it, so the workspace has its own exclusive hold: holder.json created with O_EXCL.
 * A hold left by a process that no longer exists is taken over.
 */
function acquireHold(home: string, command?: string): void {
  const holder: Holder = {
    pid: process.pid,
    command: command ?? process.argv.slice(2).join(' '),
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(holderFile(home), JSON.stringify(holder), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const current = readHolder(home);
      if (current && current.pid !== process.pid && pidAlive(current.pid)) throw busyError(home);
      fs.rmSync(holderFile(home), { force: true });
    }
  }
  throw busyError(home);
}

function busyError(home: string): UserError {
  const h = readHolder(home);
  if (h && pidAlive(h.pid)) {
    const where = h.url
      ? ` Its API is at ${h.url}; use that, or stop it first.`
      : ' Wait for it or stop it first.';
    return new UserError(
      `workspace ${home} is in use by process ${h.pid} ("vigil ${h.command}", since ${h.since}).`,
      where.trim(),
    );
  }
  return new UserError(
    `workspace ${home} is in use by another process.`,
    'Wait for it to finish or stop it first.',
  );
}

/** Runs `fn` with an open workspace and always closes it. */
export async function withWorkspace<T>(
  home: string,
  opts: OpenOptions,
  fn: (ws: Workspace) => Promise<T>,
): Promise<T> {
  const ws = await openWorkspace(home, opts);
  try {
    return await fn(ws);
  } finally {
    await ws.close();
  }
}
