import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Workspace } from '../../store/index.ts';
import { tempFile, tempWorkspace } from '../../store/testing.ts';
import { eventSources, FILE_LINES, ingestInputs } from '../index.ts';
import { STAGE_COLUMNS } from '../ocsf/parse.ts';
import { reconciles } from './testkit.ts';

/**
 * One bar for every registered event source (Vector's source compliance): its stage yields exactly
 * the stage columns, and odd input never fails ingest: every line is stored or quarantined with a
 * reason and a position inside the file, and the counts reconcile.
 */

/** Junk lines, salted per source: a line already quarantined from another file is a duplicate. */
const junk = (salt: string) =>
  Buffer.concat(
    [
      '',
      `plain text ${salt}`,
      '{"not": "closed"',
      '{"Records": [{"eventTime": 5}, 17, "x"]}',
      '{"Records": "no"}',
      '[1, 2, 3]',
      'a,b,"c',
      '2025-06-24 02:32:45.123 UTC,"u","db",1,"1.2.3.4:1",s.1,1,"SELECT",x,,0,LOG,00000,"AUDIT: SESSION",,,,,,,,,"app"',
      `{"time": 1750732365123, "pad": "${salt.repeat(4096)}"}`,
      '"""',
      'null',
    ]
      .map((l) => Buffer.from(`${l}\n`))
      .concat([Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from(`${salt}\n`)]),
  );
const LINES = 12;

describe('every registered event source', () => {
  let ws: Workspace & { dispose(): Promise<void> };
  before(async () => {
    ws = await tempWorkspace();
  });
  after(async () => {
    await ws.dispose();
  });

  for (const source of eventSources.values()) {
    test(`${source.name}: the stage has the stage columns`, async () => {
      const file = tempFile('empty.log', '\n');
      const sql = source.parseSelect(ws.engine.dialect, FILE_LINES);
      const cols = await ws.engine.query<{ name: string }>(`DESCRIBE (${sql})`, {
        file,
        label: file,
        maxLine: 1024,
        firstLine: 1,
      });
      assert.deepEqual(
        cols.map((c) => c.name),
        STAGE_COLUMNS,
      );
    });

    test(`${source.name}: junk is quarantined, never fatal, and counts reconcile`, async () => {
      const file = tempFile(`junk-${source.name}.log`, junk(source.name));
      const { counts } = await ingestInputs(ws, [file], {
        format: source.name,
        reference: { settings: tempFile('s.yaml', 'ingest:\n  max_line_bytes: 2048\n') },
      });
      reconciles(counts);
      assert.ok(counts.read >= 1, 'nothing was read');
      assert.ok(counts.quarantined >= 1, 'junk was not quarantined');
      const rows = await ws.engine.query<{ reason: string; source_line: number }>(
        'SELECT reason, source_line FROM quarantine WHERE source_file = {f:String}',
        { f: file },
      );
      for (const r of rows) {
        assert.notEqual(r.reason, '');
        assert.ok(r.source_line >= 1 && r.source_line <= LINES, `position ${r.source_line}`);
      }
      assert.ok(
        rows.some((r) => r.reason === 'line_too_long' || r.reason === 'invalid_utf8'),
        'the shared checks did not run',
      );
    });
  }
});
