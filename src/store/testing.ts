import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWorkspace, type Workspace } from './workspace.ts';

/** A fresh workspace in a temporary folder, for tests. chDB allows one open data directory per process: close it. */
export async function tempWorkspace(
  prefix = 'vigil-test-',
): Promise<Workspace & { dispose(): Promise<void> }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const ws = await openWorkspace(home, { command: 'test' });
  return Object.assign(ws, {
    async dispose() {
      await ws.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  });
}

/** Writes lines (strings or Buffers, joined by newlines) to a temporary file and returns its path. */
export function tempFile(name: string, content: string | Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-in-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}
