import type { Category, Operation } from './catalog.ts';
import { iso } from './clock.ts';
import type { Subject } from './world.ts';

export type EntityType = 'ip' | 'key' | 'actor' | 'token' | 'person' | 'user_agent' | 'asn' | 'service';

export interface Exposure {
  categories: Set<Category>;
  first: number;
  last: number;
  events: number;
}

export interface Entity {
  type: EntityType;
  id: string;
}

/**
 * What one scenario really did, accumulated from the events as they are written (not as they
 * are planned), so truth.json cannot claim an exposure the logs do not show, or miss one.
 */
export class ScenarioTruth {
  private readonly attackers = new Map<string, Entity>();
  readonly affected = new Map<string, Exposure>();
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

  /** Called by the stream for every written attack event. */
  record(time: number, op: Operation | null, subjects: readonly Pick<Subject, 'id'>[]): void {
    this.events++;
    if (time < this.first) this.first = time;
    if (time > this.last) this.last = time;
    if (!op || op.returns.length === 0) return;
    for (const s of subjects) {
      let e = this.affected.get(s.id);
      if (!e) {
        e = { categories: new Set(), first: time, last: time, events: 0 };
        this.affected.set(s.id, e);
      }
      for (const c of op.returns) e.categories.add(c);
      if (time < e.first) e.first = time;
      if (time > e.last) e.last = time;
      e.events++;
    }
  }

  /** Subjects in id order with their sorted categories. */
  subjects(): [string, Exposure, Category[]][] {
    return [...this.affected.keys()].sort().map((id) => {
      const e = this.affected.get(id)!;
      return [id, e, [...e.categories].sort()];
    });
  }

  /** Rows as `vigil scope --out` writes them, for `affected_file`. */
  affectedRows(): string {
    let out = '';
    for (const [id, e, categories] of this.subjects()) {
      out += `${JSON.stringify({ subject_id: id, categories, first_exposed: iso(e.first), last_exposed: iso(e.last), events: e.events, confidence: 'confirmed' })}\n`;
    }
    return out;
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
      subjects: this.affected.size,
      ...(affectedFile ? { affected_file: affectedFile } : { affected }),
      params: this.params,
    };
  }
}
