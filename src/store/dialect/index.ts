import type { Dialect } from './dialect.ts';
import { ModernDialect } from './dialect.ts';
import { LegacyDialect } from './legacy.ts';

export { Dialect, ModernDialect } from './dialect.ts';
export { LegacyDialect } from './legacy.ts';

/** Every dialect, newest first. `dialect.test.ts` runs its spec over each one registered here. */
export const dialects: readonly Dialect[] = [new ModernDialect(), new LegacyDialect()];

/**
 * The dialect for a server version string (`SELECT version()`): 18.x speaks the legacy dialect,
 * 23 and later the modern one. 19–22 were never tested here and are refused rather than guessed.
 */
export function dialectForVersion(version: string): Dialect | null {
  const major = Number.parseInt(version, 10);
  if (major >= 23) return new ModernDialect();
  if (major === 18) return new LegacyDialect();
  return null;
}
