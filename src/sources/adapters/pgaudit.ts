import type { Dialect } from '../../store/index.ts';
import type { EventSource } from '../source.ts';
import { badIp, badTime, jsonPairs, missing, stageSelect, timeMsFromText } from './stage.ts';

/**
 * PostgreSQL `csvlog` files with `pgaudit` entries. Each `AUDIT: SESSION,…` / `AUDIT: OBJECT,…`
 * record of class READ or WRITE is an API Activity (6003) by the database user: the operation is
 * `COMMAND schema.table` (`SELECT public.customers`), which the catalog's `operations` can map to
 * data categories; the address is the connection's host. Other pgaudit classes (DDL, ROLE,
 * FUNCTION, MISC) are quarantined as `unsupported_class`, and log records that are not audit
 * entries (connections, errors, checkpoints) as `not_audit`: every record is counted, none vanishes.
 *
 * A database session is not an access token, so `token_id` stays empty (the session id is in
 * `unmapped`): the unissued-token detector must not mistake sessions for forged tokens.
 *
 * Statement-level audit cannot tell which rows a statement returned, so events carry no subjects:
 * scoping treats such a read as touching the whole table, not specific people.
 *
 * A record spans several physical lines when a statement has line breaks inside its quoted CSV
 * field; such lines are joined back into one record (read counts records, the position is the
 * record's first line). The same statement logged by both SESSION and OBJECT audit gets one event
 * id (session, statement, substatement, relation), so the second copy counts as a duplicate.
 *
 * Times are read with their zone abbreviation (`UTC`, `+09`, and `KST`/`JST`); `log_timezone = 'UTC'`
 * is the safe setting. A Unix-socket connection (`[local]`) is the database host itself: 127.0.0.1.
 */

/** One CSV field after a separating comma (a leading comma is added to the record). */
const CSV_FIELD = `',("(?:[^"]|"")*"|[^,"]*)'`;

/** csvlog columns (1-based) used here; PostgreSQL 9.x–12 write 23 columns, 13+ up to 26. */
const COL = { time: 1, user: 2, database: 3, pid: 4, connection: 5, session: 6, message: 14, app: 23 };

/** Zone abbreviations PostgreSQL writes for common `log_timezone`s that the parser does not know. */
const ZONES: Record<string, string> = { KST: '+09:00', JST: '+09:00' };

/** Splits a CSV text into unquoted cells; `<name>_ok` says whether the cells spell the whole text. */
function csvCells(name: string, text: string): [string, string][] {
  return [
    [`${name}_q`, `arrayMap(g -> g[1], extractAllGroups(concat(',', ${text}), ${CSV_FIELD}))`],
    [`${name}_ok`, `arraySum(arrayMap(c -> length(c) + 1, ${name}_q)) = length(${text}) + 1`],
    [
      name,
      `arrayMap(c -> if(startsWith(c, '"'), replaceAll(substring(c, 2, length(c) - 2), '""', '"'), c), ${name}_q)`,
    ],
  ];
}

/** How a csvlog record starts: its timestamp (the same in SQL and as a RegExp). */
const RECORD_START = '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}';

/**
 * Records from physical lines: a line starts a record unless it continues an open quoted field
 * (an odd number of quotes so far) and does not itself look like a record's timestamp.
 */
function records(input: string): string {
  return `(SELECT min(n) + {firstLine:UInt64} AS source_line,
      arrayStringConcat(arrayMap(x -> x.2, arraySort(groupArray((n, line)))), '\n') AS line, any(input_label) AS input_label
    FROM (
      SELECT n, line, input_label, sum(toUInt64(starts)) OVER (ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS rec
      FROM (
        SELECT n, line, input_label,
          match(line, '${RECORD_START}')
            OR quotes_before % 2 = 0 AS starts
        FROM (
          SELECT _row_number AS n, line, input_label,
            sum(countSubstrings(line, '"')) OVER (ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS quotes_before
          FROM ${input})))
    GROUP BY rec)`;
}

function pgauditSelect(d: Dialect, input: string): string {
  const cell = (i: number) => `cells[${i}]`;
  const zones = Object.entries(ZONES).reduce(
    (expr, [abbr, offset]) => `replaceRegexpOne(${expr}, ' ${abbr}$', ' ${offset}')`,
    cell(COL.time),
  );
  return stageSelect(d, {
    from: records(input),
    lets: [
      csvCells('cells', 'text'),
      [
        ['pg_message', cell(COL.message)],
        ['is_audit', `startsWith(cells[${COL.message}], 'AUDIT: ')`],
      ],
      csvCells('audit', `if(is_audit, substring(pg_message, 8), '')`),
      [
        // AUDIT_TYPE, STATEMENT_ID, SUBSTATEMENT_ID, CLASS, COMMAND, OBJECT_TYPE, OBJECT_NAME, STATEMENT, PARAMETER
        ['pg_class', 'upper(audit[4])'],
        ['pg_command', 'upper(audit[5])'],
        ['pg_object', 'audit[7]'],
        [
          'pg_host',
          `if(${cell(COL.connection)} = '[local]', '127.0.0.1', replaceRegexpOne(${cell(COL.connection)}, ':[0-9]+$', ''))`,
        ],
      ],
    ],
    timeMs: timeMsFromText(`nullIf(${zones}, '')`),
    ip: `nullIf(pg_host, '')`,
    checks: [
      {
        when: 'NOT cells_ok OR length(cells) NOT BETWEEN 23 AND 26',
        reason: 'invalid_csv',
        detail: `concat('expected a csvlog record of 23 to 26 columns, read ', toString(length(cells)))`,
      },
      { when: 'NOT is_audit', reason: 'not_audit', detail: `substring(pg_message, 1, 120)` },
      {
        when: 'NOT audit_ok OR length(audit) < 8',
        reason: 'invalid_csv',
        detail: `concat('audit entry: ', substring(pg_message, 1, 120))`,
      },
      {
        when: `pg_class NOT IN ('READ', 'WRITE')`,
        reason: 'unsupported_class',
        detail: `concat('pgaudit class ', pg_class, ' is not READ or WRITE')`,
      },
      missing('log_time', cell(COL.time)),
      badTime('log_time', cell(COL.time)),
      missing('connection_from', 'pg_host'),
      badIp('connection_from'),
      missing('user_name', cell(COL.user)),
    ],
    columns: {
      event_id: `concat('pg:', ${cell(COL.session)}, ':', audit[2], ':', audit[3], ':', pg_object)`,
      activity_id: `multiIf(pg_class = 'READ', 2, pg_command IN ('INSERT', 'COPY'), 1,
        pg_command = 'UPDATE', 3, pg_command IN ('DELETE', 'TRUNCATE TABLE'), 4, 99)`,
      status_id: '1',
      actor_uid: cell(COL.user),
      operation: `concat(pg_command, if(pg_object != '', concat(' ', pg_object), ''))`,
    },
    unmapped: jsonPairs([
      ['database', cell(COL.database)],
      ['session_id', cell(COL.session)],
      ['process_id', cell(COL.pid)],
      ['application_name', cell(COL.app)],
      ['audit_type', 'audit[1]'],
      ['statement_id', 'audit[2]'],
      ['substatement_id', 'audit[3]'],
      ['class', 'pg_class'],
      ['object_type', 'audit[6]'],
      ['statement', 'audit[8]'],
      ['parameter', 'audit[9]'],
    ]),
  });
}

export const pgaudit: EventSource = {
  name: 'pgaudit',
  description: 'PostgreSQL csvlog with pgaudit SESSION/OBJECT entries (READ and WRITE)',
  // A record continues over the lines of a quoted field, so files are read one at a time.
  linewise: false,
  recordStart: new RegExp(RECORD_START),
  parseSelect: pgauditSelect,
};
