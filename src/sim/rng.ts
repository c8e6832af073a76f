/**
 * Seeded randomness. Output must be byte-identical for the same seed, so nothing here may touch
 * Math.random or the clock. Each generator gets its own stream (see `Rng.derive`) so adding a
 * scenario does not shift the benign traffic around it.
 */
export class Rng {
  private s: number;

  constructor(seed: number) {
    // mulberry32 state; 0 is a poor state, so nudge it.
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  /** A stream that depends only on the seed and the labels, not on what was drawn before. */
  static derive(seed: number, ...labels: (string | number)[]): Rng {
    return new Rng(Rng.hash(seed, ...labels));
  }

  /** The seed `derive` would use. */
  static hash(seed: number, ...labels: (string | number)[]): number {
    let h = 2166136261 ^ seed;
    for (const label of labels) {
      const text = String(label);
      for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
      h = Math.imul(h ^ 0x2f, 16777619);
    }
    return h >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.index(items.length)];
  }

  /** A position in a list of `length` items (what `pick` draws). */
  index(length: number): number {
    return Math.floor(this.next() * length);
  }

  /** Index drawn from a cumulative weight table (see `cumulative`). */
  weighted(cum: Float64Array | readonly number[]): number {
    const x = this.next() * cum[cum.length - 1];
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Poisson count; Knuth for small means, a rounded normal for large ones. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Log-normal with mean 1: a few heavy users, many light ones. */
  activity(sigma: number): number {
    return Math.exp(sigma * this.normal() - (sigma * sigma) / 2);
  }

  /** 16 lowercase hex characters, the shape of our token ids. */
  hex16(): string {
    const a = Math.floor(this.next() * 4294967296);
    const b = Math.floor(this.next() * 4294967296);
    return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
  }

  /** k distinct indexes from [0, n) (k ≤ n). */
  sample(n: number, k: number): number[] {
    const chosen = new Set<number>();
    const out: number[] = [];
    const want = Math.min(k, n);
    while (out.length < want) {
      const i = Math.floor(this.next() * n);
      if (!chosen.has(i)) {
        chosen.add(i);
        out.push(i);
      }
    }
    return out;
  }
}

export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i];
    out[i] = sum;
  }
  return out;
}
