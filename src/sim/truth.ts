import { closeSync, openSync, writeSync } from 'node:fs';
import { CATEGORY_LABELS, type Category, type Operation } from './catalog.ts';
import { iso } from './clock.ts';
import type { Subject } from './world.ts';

export type EntityType = 'ip' | 'key' | 'actor' | 'token' | 'person' | 'user_agent' | 'asn' | 'service';

export interface Entity {
  type: EntityType;
  id: string;
}

const CATEGORIES = Object.keys(CATEGORY_LABELS) as Category[];
const CATEGORY_BIT = new Map(CATEGORIES.map((c, i) => [c, 1 << i]));
/** Recipients' keys start here; customers' are their number (ids of 8 digits fit below it). */
const RECIPIENT_KEYS = 2 ** 29;
const STANDARD_ID = /^([cr])-(\d{8})$/;

/** Subject id → integer key that sorts like the id (standard ids), else -1. */
function keyOf(id: string): number {
  const m = STANDARD_ID.exec(id);
  if (!m) return -1;
  return Number(m[2]) + (m[1] === 'r' ? RECIPIENT_KEYS : 0);
}

function idOfKey(key: number): string {
  return key >= RECIPIENT_KEYS
    ? `r-${String(key - RECIPIENT_KEYS).padStart(8, '0')}`
    : `c-${String(key).padStart(8, '0')}`;
}

function mix32(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Exposures as columns: ~40 bytes a subject (an object, a Set and a string key cost ~300, and
 * a breach of a 30 M base exposes millions). Ids of the shape `c-`/`r-` + 8 digits are keyed
 * by number in an open-addressing table; any other id goes through a Map.
 */
class Exposures {
  size = 0;
  private table = new Int32Array(1 << 10);
  private keys = new Int32Array(1 << 9);
  categories = new Uint8Array(1 << 9);
  first = new Float64Array(1 << 9);
  last = new Float64Array(1 << 9);
  events = new Uint32Array(1 << 9);
  private readonly others = new Map<string, number>();
  private readonly otherIds: string[] = [];

  /** The slot of `id`, added if new. */
  slot(id: string, time: number): number {
    const key = keyOf(id);
    if (key < 0) {
      let s = this.others.get(id);
      if (s === undefined) {
        s = this.add(-1 - this.otherIds.length, time);
        this.otherIds.push(id);
        this.others.set(id, s);
      }
      return s;
    }
    const mask = this.table.length - 1;
    for (let h = mix32(key) & mask; ; h = (h + 1) & mask) {
      const v = this.table[h];
      if (v === 0) {
        const s = this.add(key, time);
        this.table[h] = s + 1;
        if (this.size * 2 > this.table.length) this.rehash();
        return s;
      }
      if (this.keys[v - 1] === key) return v - 1;
    }
  }

  private add(key: number, time: number): number {
    const s = this.size++;
    if (s === this.keys.length) {
      const n = s * 2;
      this.keys = grow(this.keys, new Int32Array(n));
      this.categories = grow(this.categories, new Uint8Array(n));
      this.first = grow(this.first, new Float64Array(n));
      this.last = grow(this.last, new Float64Array(n));
      this.events = grow(this.events, new Uint32Array(n));
    }
    this.keys[s] = key;
    this.first[s] = time;
    this.last[s] = time;
    return s;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let s = 0; s < this.size; s++) {
      const key = this.keys[s];
      if (key < 0) continue;
      let h = mix32(key) & mask;
      while (table[h] !== 0) h = (h + 1) & mask;
      table[h] = s + 1;
    }
    this.table = table;
  }

  id(s: number): string {
    const key = this.keys[s];
    return key < 0 ? this.otherIds[-1 - key] : idOfKey(key);
  }

  /** Slots in id order. */
  sorted(): Uint32Array {
    const order = new Uint32Array(this.size);
    for (let s = 0; s < this.size; s++) order[s] = s;
    const keys = this.keys;
    if (this.otherIds.length === 0) return order.sort((a, b) => keys[a] - keys[b]);
    return order.sort((a, b) => {
      if (keys[a] >= 0 && keys[b] >= 0) return keys[a] - keys[b];
      const x = this.id(a);
      const y = this.id(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
}

function grow<T extends Int32Array | Uint8Array | Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function categoriesOf(bits: number): Category[] {
  const out: Category[] = [];
  for (let i = 0; i < CATEGORIES.length; i++) if (bits & (1 << i)) out.push(CATEGORIES[i]);
  return out.sort();
}

/**
 * What one scenario really did, accumulated from the events as they are written (not as they
 * are planned), so truth.json cannot claim an exposure the logs do not show, or miss one.
 */
export class ScenarioTruth {
  private readonly attackers = new Map<string, Entity>();
  private readonly exposures = new Exposures();
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  events = 0;

  constructor(
    readonly id: string,
    readonly kind: string,
    readonly params: Record<string, number | string>,
  ) {}

  attacker(type: EntityType, id: string | number): void {
    const key = `${type}:${id}`;
    if (!this.attackers.has(key)) this.attackers.set(key, { type, id: String(id) });
  }

  /** Subjects exposed so far. */
  get affectedCount(): number {
    return this.exposures.size;
  }

  /** The exposures; `size` is what callers read. */
  get affected(): { readonly size: number } {
    return this.exposures;
  }

  /** Called by the stream for every written attack event. */
  record(time: number, op: Operation | null, subjects: readonly Pick<Subject, 'id'>[]): void {
    this.events++;
    if (time < this.first) this.first = time;
    if (time > this.last) this.last = time;
    if (!op || op.returns.length === 0) return;
    let bits = 0;
    for (const c of op.returns) bits |= CATEGORY_BIT.get(c)!;
    const x = this.exposures;
    for (const subject of subjects) {
      const s = x.slot(subject.id, time);
      x.categories[s] |= bits;
      if (time < x.first[s]) x.first[s] = time;
      if (time > x.last[s]) x.last[s] = time;
      x.events[s]++;
    }
  }

  /** Subjects in id order with their sorted categories. */
  *subjects(): Generator<[string, { first: number; last: number; events: number }, Category[]]> {
    const x = this.exposures;
    for (const s of x.sorted()) {
      yield [
        x.id(s),
        { first: x.first[s], last: x.last[s], events: x.events[s] },
        categoriesOf(x.categories[s]),
      ];
    }
  }

  /** Writes rows as `vigil scope --out` writes them to `file` (for `affected_file`), in chunks. */
  writeAffected(file: string): void {
    const fd = openSync(file, 'w');
    try {
      let out = '';
      for (const [id, e, categories] of this.subjects()) {
        out += `${JSON.stringify({ subject_id: id, categories, first_exposed: iso(e.first), last_exposed: iso(e.last), events: e.events, confidence: 'confirmed' })}\n`;
        if (out.length >= 1 << 20) {
          writeSync(fd, out);
          out = '';
        }
      }
      if (out) writeSync(fd, out);
    } finally {
      closeSync(fd);
    }
  }

  /** The scenario's entry in truth.json; with `affectedFile`, subjects are in that file instead. */
  toJson(affectedFile?: string): Record<string, unknown> {
    const affected: Record<string, Category[]> = {};
    if (!affectedFile) for (const [id, , categories] of this.subjects()) affected[id] = categories;
    return {
      id: this.id,
      kind: this.kind,
      start: this.events ? iso(this.first) : null,
      end: this.events ? iso(this.last) : null,
      events: this.events,
      attacker: [...this.attackers.values()],
      subjects: this.exposures.size,
      ...(affectedFile ? { affected_file: affectedFile } : { affected }),
      params: this.params,
    };
  }
}
