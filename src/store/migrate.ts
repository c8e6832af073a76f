import type { Engine } from './engine.ts';
import { migrations } from './migrations/index.ts';

/** Applies every migration newer than the store's version, in order, recording each. */
export async function migrate(engine: Engine): Promise<number> {
  await engine.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime)
     ${engine.dialect.sqlMergeTree({ orderBy: 'version' })}`,
  );
  const [row] = await engine.query<{ v: number }>('SELECT max(version) AS v FROM schema_migrations');
  let current = row?.v ?? 0;
  for (const m of migrations) {
    if (m.version <= current) continue;
    for (const statement of m.statements(engine.dialect)) await engine.exec(statement);
    await engine.insert('schema_migrations', [
      { version: m.version, name: m.name, applied_at: Math.floor(Date.now() / 1000) },
    ]);
    current = m.version;
  }
  return current;
}
