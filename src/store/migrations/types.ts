import type { Dialect } from '../dialect/index.ts';

/** One versioned schema change. Statements are built from the dialect so they run on every engine. */
export interface Migration {
  version: number;
  name: string;
  statements(d: Dialect): string[];
}
