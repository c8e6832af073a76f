import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The console's sources; its build goes to `dist/` beside them (git-ignored). */
export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');
export const WEB_DIST = path.join(WEB_ROOT, 'dist');

function newestMtime(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/** True when the build is missing or any console source is newer than it. */
export function consoleIsStale(): boolean {
  const built = path.join(WEB_DIST, 'index.html');
  if (!fs.existsSync(built)) return true;
  const sources = ['index.html', 'vite.config.ts', 'src'].map((f) => path.join(WEB_ROOT, f));
  return Math.max(...sources.filter((s) => fs.existsSync(s)).map(newestMtime)) > fs.statSync(built).mtimeMs;
}

/**
 * Builds the console with Vite's JS API when it is missing or stale, so `vigil serve` works right
 * after `npm install` with no separate build step. It builds into a private folder and swaps it in,
 * so two processes starting at once never serve a half-written build.
 */
export async function ensureConsoleBuilt(log: (line: string) => void = () => {}): Promise<string> {
  if (!consoleIsStale()) return WEB_DIST;
  const started = Date.now();
  const tmp = `${WEB_DIST}.build-${process.pid}`;
  const { build } = await import('vite');
  await build({
    root: WEB_ROOT,
    configFile: path.join(WEB_ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: tmp, emptyOutDir: true },
  });
  fs.rmSync(WEB_DIST, { recursive: true, force: true });
  try {
    fs.renameSync(tmp, WEB_DIST);
  } catch {
    // Another process swapped its build in first; theirs is as good as ours.
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`built the console in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return WEB_DIST;
}
