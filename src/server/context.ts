import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Workspace } from '../store/index.ts';
import { allows, type Principal, type Role, type TokenStore } from './auth.ts';
import type { Asker, Domain, Incident, ScopeSummary } from './domain.ts';
import type { Live } from './live.ts';
import { computeView, storedView, type ViewName, type ViewValue } from './views.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Limits the routes enforce; every one has a default in `server.ts`. */
export interface Limits {
  /** Largest intake body, in bytes. */
  intakeBytes: number;
  /** Requests per minute per client address on the intake path. */
  intakePerMinute: number;
  /** Requests per minute per client address on the login path. */
  loginPerMinute: number;
}

/** What every route handler works with. */
export interface ServerContext {
  ws: Workspace;
  domain: Domain;
  tokens: TokenStore;
  live: Live;
  limits: Limits;
  /** Where request bodies are spooled before ingest. */
  spoolDir: string;
  /** Per-incident views (scope summary, timeline, entities) by key; see `cached`. */
  cache: Map<string, CacheEntry>;
  /** Reads of stored views into `cache` in flight, by key; see `seed`. */
  seeding: Map<string, Promise<void>>;
  /** The background warm-up of incident views, while it runs. */
  warming: Promise<void> | null;
  warmAgain: boolean;
  closing: boolean;
}

export interface CacheEntry {
  /** `live.generation` the value was computed for. */
  generation: number;
  value: Promise<unknown>;
  ok: boolean;
  refreshing: boolean;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The caller's principal; the auth hook guarantees one on every /api route. */
export function who(req: FastifyRequest): Principal {
  if (!req.principal) throw new HttpError(401, 'missing or invalid token');
  return req.principal;
}

/** Refuses (403) unless the caller's role is at least `role`. */
export function requireRole(req: FastifyRequest, role: Role): Principal {
  const p = who(req);
  if (!allows(p.role, role)) throw new HttpError(403, `this needs the ${role} role; your token is ${p.role}`);
  return p;
}

/**
 * The incident as detection stores it now: only detection in this process changes incidents (the
 * server holds the workspace), and it starts a new generation when it does, so a per-generation
 * copy is current (never served stale).
 */
export async function findIncident(ctx: ServerContext, id: string): Promise<Incident> {
  const inc = await cached(ctx, `incident:${id}`, () => ctx.domain.getIncident(ctx.ws.engine, id), {
    stale: false,
  });
  if (!inc) throw new HttpError(404, 'no such incident');
  return inc;
}

/** How a principal is named to scoping and in the audit log: the token's name and id, never the token. */
export function asker(p: Principal): Asker {
  return { who: `${p.name} (${p.token_id})`, role: p.role };
}

/**
 * A view computed once per data generation (new events or incidents make a new one), shared by
 * concurrent readers. Stale-while-revalidate: once a view exists, readers get it at once while a
 * newer generation's value is computed in the background (one at a time per view), so a console
 * on a busy live server never waits for a recomputation; only the very first view of a key waits.
 */
export function cached<T>(
  ctx: ServerContext,
  key: string,
  compute: () => Promise<T>,
  opts: { stale?: boolean } = {},
): Promise<T> {
  const gen = ctx.live.generation;
  const stale = opts.stale !== false;
  const hit = ctx.cache.get(key);
  if (hit && (hit.generation === gen || (stale && hit.ok && hit.refreshing))) return hit.value as Promise<T>;
  if (hit?.ok && stale) {
    hit.refreshing = true;
    const next = compute();
    next.then(
      () => ctx.cache.set(key, { generation: gen, value: next, ok: true, refreshing: false }),
      () => {
        hit.refreshing = false;
      },
    );
    return hit.value as Promise<T>;
  }
  const value = compute();
  const entry: CacheEntry = { generation: gen, value, ok: false, refreshing: false };
  ctx.cache.set(key, entry);
  value.then(
    () => {
      entry.ok = true;
    },
    () => {
      if (ctx.cache.get(key) === entry) ctx.cache.delete(key);
    },
  );
  return value;
}

/**
 * Before a view's first use in this process, its stored copy (computed by `vigil detect` or an
 * earlier server) becomes the cached value: served at once, and, unless it is known to be fresh,
 * recomputed in the background by `cached`. Only a view never computed makes its reader wait.
 */
async function seed(
  ctx: ServerContext,
  key: string,
  load: () => Promise<{ value: unknown; fresh: boolean } | null>,
): Promise<void> {
  if (ctx.cache.has(key)) return;
  let pending = ctx.seeding.get(key);
  if (!pending) {
    pending = load()
      .then((stored) => {
        if (!stored || ctx.cache.has(key)) return;
        const generation = stored.fresh ? ctx.live.generation : -1;
        ctx.cache.set(key, { generation, value: Promise.resolve(stored.value), ok: true, refreshing: false });
      })
      .catch(() => undefined)
      .finally(() => ctx.seeding.delete(key));
    ctx.seeding.set(key, pending);
  }
  await pending;
}

/** An incident's timeline or entities (see `views.ts`). */
export async function incidentView<V extends ViewName>(
  ctx: ServerContext,
  view: V,
  incident: Incident,
): Promise<ViewValue<V>> {
  const key = `${view}:${incident.id}`;
  await seed(ctx, key, () => storedView(ctx.ws.engine, incident, view));
  return cached(ctx, key, () => computeView(ctx.ws.engine, incident, view));
}

/**
 * The incident's scope summary. Scoping reuses a stored computation when nothing changed; the
 * newest stored one is served meanwhile (its `computed_at` says when it was computed).
 */
export async function scopeSummary(
  ctx: ServerContext,
  incident: Incident,
  p: Principal,
): Promise<ScopeSummary> {
  const key = `scope:${incident.id}`;
  await seed(ctx, key, async () => {
    const stored = await ctx.domain.storedScope(ctx.ws.engine, incident.id);
    return stored ? { value: stored, fresh: false } : null;
  });
  return cached(ctx, key, () => ctx.domain.scopeSummary(ctx.ws, incident, asker(p)));
}

/** Subjects exposed for a list: the summary if one is cached, else the newest stored one, else null. */
export async function knownSubjects(ctx: ServerContext, incident: Incident): Promise<number | null> {
  const hit = ctx.cache.get(`scope:${incident.id}`);
  if (hit?.ok) return ((await hit.value) as ScopeSummary).subjects;
  return (await ctx.domain.storedScope(ctx.ws.engine, incident.id))?.subjects ?? null;
}

/**
 * Computes the console's views of the most severe open incidents in the background, one at a
 * time, so an incident page is ready before anyone opens it. Runs after detection passes; a
 * request while it runs makes it go round once more.
 */
export function warmViews(ctx: ServerContext, system: Principal, limit = 10): void {
  if (ctx.warming) {
    ctx.warmAgain = true;
    return;
  }
  ctx.warming = (async () => {
    do {
      ctx.warmAgain = false;
      const incidents = (await ctx.domain.listIncidents(ctx.ws.engine))
        .filter((i) => i.status === 'open')
        .sort((a, b) => rank(a.severity) - rank(b.severity))
        .slice(0, limit);
      for (const inc of incidents) {
        // Intake comes first: warming waits while bodies are queued.
        while (ctx.live.snapshot().pending > 0 && !ctx.closing) await new Promise((r) => setTimeout(r, 200));
        if (ctx.closing) return;
        await Promise.all([
          scopeSummary(ctx, inc, system),
          incidentView(ctx, 'timeline', inc),
          incidentView(ctx, 'entities', inc),
        ]).catch(() => undefined);
      }
    } while (ctx.warmAgain && !ctx.closing);
  })()
    .catch(() => undefined)
    .finally(() => {
      ctx.warming = null;
    });
}

const rank = (severity: string) => ['critical', 'high', 'medium', 'low'].indexOf(severity) >>> 0;

export function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
}
