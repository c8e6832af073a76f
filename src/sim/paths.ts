import type { Operation } from './catalog.ts';

/** Fills an operation's path template: `{id}` is the principal or subject, the rest is `ref`. */
export function fillPath(op: Operation, id: string, ref = ''): string {
  const path = op.path;
  const brace = path.indexOf('{');
  if (brace < 0) return path;
  let out = path.replace('{id}', id);
  const other = out.indexOf('{');
  if (other >= 0) out = out.slice(0, other) + ref + out.slice(out.indexOf('}', other) + 1);
  return out;
}
