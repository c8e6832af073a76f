import type { Engine } from './engine.ts';
import { migrations } from './migrations/index.ts';

/** Applies every migration newer than the store's version, in order, recording each. */
export async function migrate(engine: Engine): Promise<number> {
  await engine.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime)
     ${engine.dialect.sqlMergeTree({ orderBy: 'version' })}`,
  );
  // Versions are applied as a set, not a high-water mark, so a migration merged later with a lower
  // number than one already applied still runs.
  const applied = new Set(
    (await engine.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version),
  );
  let current = Math.max(0, ...applied);
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    for (const statement of m.statements(engine.dialect)) await engine.exec(statement);
    await engine.insert('schema_migrations', [
      { version: m.version, name: m.name, applied_at: Math.floor(Date.now() / 1000) },
    ]);
    current = Math.max(current, m.version);
  }
  return current;
}
