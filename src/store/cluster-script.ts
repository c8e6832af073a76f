import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Test support: starts and stops the two-server 18.16 cluster of `scripts/clickhouse-cluster.sh`.
 * `start` returns null with the reason when the server cannot be installed (no apt, no network),
 * so a test can skip saying why instead of failing on a missing binary.
 */
const script = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../scripts/clickhouse-cluster.sh',
);

export interface LocalCluster {
  dir: string;
  /** HTTP ports of shard 1 and shard 2. */
  http: [number, number];
}

export function startLocalCluster(
  dir: string,
  baseTcp: number,
  baseHttp: number,
): LocalCluster | { skip: string } {
  const env = { ...process.env, CH_BASE_TCP: String(baseTcp), CH_BASE_HTTP: String(baseHttp) };
  const r = spawnSync('sh', [script, 'start', dir], { env, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    const out = `${r.stderr ?? ''}${r.stdout ?? ''}`;
    if (
      /apt-get|Unable to locate|Could not resolve|Temporary failure|not found/i.test(out) &&
      !/shard \d/.test(out)
    ) {
      return {
        skip: `cannot install Debian's clickhouse-server here: ${out.trim().split('\n').slice(-3).join(' | ')}`,
      };
    }
    throw new Error(`clickhouse-cluster.sh start failed (${r.status}): ${out}`);
  }
  return { dir, http: [baseHttp, baseHttp + 1] };
}

export function stopLocalCluster(dir: string): void {
  spawnSync('sh', [script, 'stop', dir], { encoding: 'utf8', timeout: 60_000 });
}
