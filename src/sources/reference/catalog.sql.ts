import type { Dialect } from '../../store/index.ts';
import type { Catalog } from './catalog.ts';

/** SQL expressions over an `events` row that resolve it against the catalog as it is now. */
export interface CatalogSql {
  /** The operation: `api.operation`, else the name of the path template its method and path match, else ''. */
  operation: string;
  /** Array(String) of the categories that operation returns; empty when the catalog does not know it. */
  categories: string;
  /** 1 when the catalog knows the operation (or the path), 0 for a catalog gap. */
  known: string;
}

/**
 * Categories are resolved at query time from the catalog's current load, never stored on events,
 * so a catalog change is reflected in the next scope without re-ingesting anything. The catalog
 * is small (hundreds of entries), so it is inlined as constant arrays the engine indexes per row.
 */
export function catalogSql(catalog: Catalog, d: Dialect, alias = ''): CatalogSql {
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  const str = (s: string) => d.sqlString(s);
  const list = (xs: string[]) => `[${xs.map(str).join(', ')}]::Array(String)`;
  const pathNames = catalog.paths.map((p) => p.name);
  const fromPath =
    catalog.paths.length === 0
      ? "''"
      : `arrayElement(${list(pathNames)}, multiMatchAnyIndex(concat(${col('http_method')}, ' ', ${col('url_path')}), ${list(catalog.paths.map((p) => p.pattern))}))`;
  const operation = `if(${col('operation')} != '', ${col('operation')}, ${fromPath})`;
  const names = [...catalog.operations.keys(), ...pathNames];
  const cats = [...catalog.operations.values(), ...catalog.paths.map((p) => p.categories)];
  const catsLiteral = `[${cats.map((c) => list(c)).join(', ')}]::Array(Array(String))`;
  const categories =
    names.length === 0
      ? '[]::Array(String)'
      : `arrayElement(${catsLiteral}, indexOf(${list(names)}, ${operation}))`;
  const known = names.length === 0 ? '0' : `has(${list(names)}, ${operation})`;
  return { operation, categories, known };
}

/** How a path with ids in it is shown in a catalog gap: numbers and long hex ids become {id}. */
export function sqlNormalizedPath(methodExpr: string, pathExpr: string): string {
  return `concat(${methodExpr}, ' ', replaceRegexpAll(replaceRegexpOne(${pathExpr}, '\\\\?.*$', ''), '/([0-9]+|[0-9a-fA-F-]{8,}|[a-z]+-[0-9A-Za-z-]+)(/|$)', '/{id}\\\\2'))`;
}
