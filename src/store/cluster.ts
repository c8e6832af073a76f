/**
 * Schema on a ClickHouse cluster without `ON CLUSTER` (18.16 needs ZooKeeper for it): every DDL
 * statement is sent to every server of the cluster, and a MergeTree table `t` becomes `t_local` on
 * each server plus a `Distributed(cluster, db, t_local, rand())` table named `t` on each server.
 * Everything above the engine keeps reading and writing `t`, on any server.
 */

/** One statement to send to every server, in order. */
export type DdlPlan = { kind: 'every-node'; statements: string[] } | { kind: 'entry' };

const ident = '(`[^`]+`|[A-Za-z_][\\w]*(?:\\.[A-Za-z_][\\w]*)?)';
const createMergeTree = new RegExp(
  `^\\s*CREATE\\s+TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${ident}\\s*\\(([\\s\\S]*)\\)\\s*(ENGINE\\s*=\\s*\\w*MergeTree\\b[\\s\\S]*)$`,
  'i',
);
const dropTable = new RegExp(`^\\s*DROP\\s+TABLE\\s+(IF\\s+EXISTS\\s+)?${ident}\\s*$`, 'i');
const truncateTable = new RegExp(`^\\s*TRUNCATE\\s+(?:TABLE\\s+)?(IF\\s+EXISTS\\s+)?${ident}\\s*$`, 'i');
const addColumn = new RegExp(`^\\s*ALTER\\s+TABLE\\s+${ident}\\s+(ADD\\s+COLUMN\\b[\\s\\S]*)$`, 'i');

const localName = (name: string): string =>
  name.startsWith('`') ? `\`${name.slice(1, -1)}_local\`` : `${name}_local`;

/**
 * How to run `sql` on a cluster. `isDistributed(name)` says whether `name` is a Distributed table
 * this layer created (TRUNCATE must empty the shards' local tables, not the Distributed one).
 */
export function planClusterStatement(
  sql: string,
  cluster: string,
  database: string,
  isDistributed: (name: string) => boolean,
): DdlPlan {
  const head = sql.trimStart().slice(0, 40).toUpperCase();
  const create = createMergeTree.exec(sql);
  if (create) {
    const ifNotExists = create[1] ? 'IF NOT EXISTS ' : '';
    const name = create[2] as string;
    const local = localName(name);
    const bare = local.replace(/^.*\./, '').replace(/`/g, '');
    return {
      kind: 'every-node',
      statements: [
        `CREATE TABLE ${ifNotExists}${local} (${create[3]}) ${create[4]}`,
        `CREATE TABLE ${ifNotExists}${name} AS ${local} ENGINE = Distributed(${cluster}, ${database}, ${bare}, rand())`,
      ],
    };
  }
  if (/^CREATE\s+TEMPORARY\b/.test(head)) return { kind: 'entry' };
  if (head.startsWith('CREATE')) return { kind: 'every-node', statements: [sql] };
  const drop = dropTable.exec(sql);
  if (drop) {
    const name = drop[2] as string;
    return {
      kind: 'every-node',
      statements: [`DROP TABLE IF EXISTS ${name}`, `DROP TABLE IF EXISTS ${localName(name)}`],
    };
  }
  if (/^DROP\b/.test(head)) return { kind: 'every-node', statements: [sql] };
  const truncate = truncateTable.exec(sql);
  if (truncate) {
    const name = truncate[2] as string;
    const target = isDistributed(name) ? localName(name) : name;
    return { kind: 'every-node', statements: [`TRUNCATE TABLE ${truncate[1] ? 'IF EXISTS ' : ''}${target}`] };
  }
  // A column added to a table this layer split goes to the shards' local tables and to the
  // Distributed one over them, which reads only the columns it declares.
  const add = addColumn.exec(sql);
  if (add) {
    const name = add[1] as string;
    const change = add[2] as string;
    return {
      kind: 'every-node',
      statements: isDistributed(name)
        ? [`ALTER TABLE ${localName(name)} ${change}`, `ALTER TABLE ${name} ${change}`]
        : [sql],
    };
  }
  if (/^(ALTER|RENAME|EXCHANGE|OPTIMIZE)\b/.test(head)) {
    throw new Error(
      `not automated on a cluster: ${sql.trim().slice(0, 60)}… — run it on every server against <table>_local (and the Distributed table for column changes)`,
    );
  }
  return { kind: 'entry' };
}
