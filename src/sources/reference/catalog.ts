import fs from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { UserError } from '../../cli/errors.ts';
import type { Engine } from '../../store/index.ts';
import { ReferenceFileError, type ReferenceProblem } from './errors.ts';
import { appendSnapshot, type ReferenceLoad } from './load.ts';

/** A path entry: "METHOD /v1/customers/{id}/addresses" and the regex that matches "METHOD path". */
export interface CatalogPath {
  name: string;
  pattern: string;
  categories: string[];
}

/** The data catalog: which categories of personal data each operation returns. */
export interface Catalog {
  categories: Map<string, string>;
  operations: Map<string, string[]>;
  paths: CatalogPath[];
}

/** "GET /v1/customers/{id}/addresses" -> "^GET /v1/customers/[^/]+/addresses/?$" (query strings ignored). */
export function templateToPattern(template: string): string {
  const [method, ...rest] = template.trim().split(/\s+/);
  const path = rest.join(' ');
  const escaped = path
    .split(/(\{[^}]*\})/)
    .map((part) => (part.startsWith('{') ? '[^/?]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return `^${(method ?? '').toUpperCase()} ${escaped.replace(/\/$/, '')}/?(\\?.*)?$`;
}

/** Parses and validates catalog.yaml; every problem carries its line. */
export function parseCatalog(file: string, text: string): Catalog {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const problems: ReferenceProblem[] = [];
  const lineOf = (n: Node | null | undefined) => (n?.range ? lc.linePos(n.range[0]).line : 1);
  for (const e of doc.errors) problems.push({ line: e.linePos?.[0]?.line ?? 1, message: e.message });
  if (problems.length > 0) throw new ReferenceFileError(file, problems);
  const root = doc.contents;
  if (!isMap(root))
    throw new ReferenceFileError(file, [
      { line: 1, message: 'expected a mapping with categories, operations and paths' },
    ]);

  const catalog: Catalog = { categories: new Map(), operations: new Map(), paths: [] };
  const section = (name: string) => {
    const v = root.get(name, true);
    if (v === undefined || v === null) return null;
    if (!isMap(v)) {
      problems.push({ line: lineOf(v as Node), column: name, message: `${name} must be a mapping` });
      return null;
    }
    return v;
  };
  const categories = section('categories');
  if (!categories) problems.push({ line: 1, column: 'categories', message: 'categories are missing' });
  for (const pair of categories?.items ?? []) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const value = pair.value;
    const label = isMap(value) ? value.get('label') : isScalar(value) ? value.value : undefined;
    catalog.categories.set(key, typeof label === 'string' ? label : key);
  }
  const readEntries = (name: 'operations' | 'paths') => {
    const m = section(name);
    for (const pair of m?.items ?? []) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const line = lineOf(pair.key as Node);
      if (!isSeq(pair.value)) {
        problems.push({ line, column: name, message: `"${key}" must map to a list of categories` });
        continue;
      }
      const cats = pair.value.items.map((i) => (isScalar(i) ? String(i.value) : ''));
      for (const c of cats) {
        if (!catalog.categories.has(c)) {
          problems.push({
            line,
            column: name,
            message: `"${key}" names unknown category "${c}" (not under categories)`,
          });
        }
      }
      if (name === 'operations') catalog.operations.set(key, cats);
      else if (!/^[A-Za-z]+ \//.test(key)) {
        problems.push({ line, column: 'paths', message: `"${key}" must look like "GET /path/{param}"` });
      } else catalog.paths.push({ name: key, pattern: templateToPattern(key), categories: cats });
    }
  };
  readEntries('operations');
  readEntries('paths');
  if (problems.length > 0) throw new ReferenceFileError(file, problems);
  return catalog;
}

/** catalog.yaml: replaces the current catalog as a whole; events are never rewritten. */
export async function loadCatalog(engine: Engine, file: string): Promise<ReferenceLoad> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`cannot read ${file}`, 'Check the path.');
  }
  const catalog = parseCatalog(file, text);
  const rows = [
    ...[...catalog.operations].map(([name, categories]) => ({
      kind: 'operation',
      name,
      pattern: '',
      categories,
    })),
    ...catalog.paths.map((p) => ({
      kind: 'path',
      name: p.name,
      pattern: p.pattern,
      categories: p.categories,
    })),
    ...[...catalog.categories].map(([name, label]) => ({
      kind: 'category',
      name,
      pattern: label,
      categories: [],
    })),
  ];
  return appendSnapshot(engine, 'catalog', file, 'catalog_entries', rows);
}

/** The current catalog from the store (the newest load). */
export async function currentCatalog(engine: Engine): Promise<Catalog> {
  const rows = await engine.query<{ kind: string; name: string; pattern: string; categories: string[] }>(
    'SELECT kind, name, pattern, categories FROM catalog_current ORDER BY kind, name',
  );
  const catalog: Catalog = { categories: new Map(), operations: new Map(), paths: [] };
  for (const r of rows) {
    if (r.kind === 'category') catalog.categories.set(r.name, r.pattern);
    else if (r.kind === 'operation') catalog.operations.set(r.name, r.categories);
    else catalog.paths.push({ name: r.name, pattern: r.pattern, categories: r.categories });
  }
  return catalog;
}
