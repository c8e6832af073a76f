import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DICT } from './src/i18n.ts';

describe('console strings', () => {
  it('has every key in English and Korean, none empty', () => {
    const en = Object.keys(DICT.en).sort();
    const ko = Object.keys(DICT.ko).sort();
    assert.deepEqual(ko, en);
    for (const lang of ['en', 'ko'] as const)
      for (const [k, v] of Object.entries(DICT[lang]))
        assert.ok(v.trim().length > 0, `${lang}.${k} is empty`);
  });

  it('uses the same placeholders in both languages', () => {
    const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of Object.keys(DICT.en) as (keyof typeof DICT.en)[])
      assert.deepEqual(vars(DICT.ko[k]), vars(DICT.en[k]), k);
  });

  it('has no UI text outside the dictionary in the pages (no bare English in h() children)', () => {
    const dir = path.join(import.meta.dirname, 'src', 'pages');
    for (const f of fs.readdirSync(dir)) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      // A string literal child of h(tag, props, 'Some words') would bypass the dictionary.
      const bare = [...src.matchAll(/h\('\w+', (?:null|\{[^}]*\}), '([A-Za-z][^']*\s[^']*)'\)/g)].map(
        (m) => m[1],
      );
      assert.deepEqual(bare, [], `${f} has UI text outside the dictionary`);
    }
  });
});
