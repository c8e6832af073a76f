import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
  asker,
  cached,
  findIncident,
  HttpError,
  incidentView,
  knownSubjects,
  noStore,
  requireRole,
  type ServerContext,
  scopeSummary,
  who,
} from '../context.ts';
import type { Incident } from '../domain.ts';

interface IdParams {
  id: string;
}

const SEVERITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Incidents, their scope, timeline, entities, and the role-gated, audited subject rows and export. */
export function incidentRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: { severity?: string; status?: string } }>('/api/incidents', async (req, reply) => {
    noStore(reply);
    let list = [
      ...(await cached(ctx, 'incidents', () => ctx.domain.listIncidents(ctx.ws.engine), { stale: false })),
    ];
    if (req.query.severity) list = list.filter((i) => i.severity === req.query.severity);
    if (req.query.status) list = list.filter((i) => i.status === req.query.status);
    list.sort(
      (a, b) =>
        (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) ||
        b.detected_at.localeCompare(a.detected_at),
    );
    // Subjects exposed as last scoped: a list must not start a scope computation per incident.
    const out: (Incident & { subjects_exposed: number | null })[] = [];
    for (const inc of list) out.push({ ...inc, subjects_exposed: await knownSubjects(ctx, inc) });
    return out;
  });

  app.get<{ Params: IdParams }>('/api/incidents/:id', async (req, reply) => {
    noStore(reply);
    return findIncident(ctx, req.params.id);
  });

  app.get<{ Params: IdParams }>('/api/incidents/:id/timeline', async (req, reply) => {
    noStore(reply);
    const inc = await findIncident(ctx, req.params.id);
    return incidentView(ctx, 'timeline', inc);
  });

  app.get<{ Params: IdParams }>('/api/incidents/:id/entities', async (req, reply) => {
    noStore(reply);
    const inc = await findIncident(ctx, req.params.id);
    return incidentView(ctx, 'entities', inc);
  });

  // The summary is for everyone; subject rows (`?subjects=N`) only for analysts and admins, audited.
  app.get<{ Params: IdParams; Querystring: { subjects?: string } }>(
    '/api/incidents/:id/scope',
    async (req, reply) => {
      noStore(reply);
      const inc = await findIncident(ctx, req.params.id);
      const wanted = req.query.subjects === undefined ? 0 : Number(req.query.subjects);
      if (!Number.isInteger(wanted) || wanted < 0)
        throw new HttpError(400, 'subjects must be a whole number');
      if (wanted > 0) requireRole(req, 'analyst');
      const p = who(req);
      const summary = await scopeSummary(ctx, inc, p);
      if (wanted === 0) return summary;
      const limit = Math.min(wanted, 1000);
      const rows = await ctx.domain.exposureRows(ctx.ws, inc, limit);
      await ctx.domain.recordAudit(ctx.ws.engine, {
        actor: asker(p).who,
        role: p.role,
        action: 'scope.subjects',
        incident: inc.id,
        rows: rows.length,
        detail: `first ${limit} subject rows viewed in the console`,
      });
      return { ...summary, rows };
    },
  );

  app.get<{ Params: IdParams; Querystring: { format?: string } }>(
    '/api/incidents/:id/export',
    async (req, reply) => {
      const p = requireRole(req, 'analyst');
      const format = req.query.format ?? 'csv';
      if (format !== 'csv' && format !== 'jsonl') throw new HttpError(400, 'format must be csv or jsonl');
      const inc = await findIncident(ctx, req.params.id);
      const source = ctx.domain.exportExposure(ctx.ws, inc, format, asker(p));
      const audit = (rows: number, detail: string) =>
        ctx.domain.recordAudit(ctx.ws.engine, {
          actor: asker(p).who,
          role: p.role,
          action: 'scope.export',
          incident: inc.id,
          rows,
          detail,
        });
      // The read is recorded before a byte leaves, then again with the count once it is complete,
      // so even an export cut off half-way is on the audit trail.
      await audit(0, `export started (${format})`);
      async function* counted() {
        let lines = 0;
        let complete = false;
        try {
          for await (const chunk of source) {
            const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            for (const b of buf) if (b === 10) lines++;
            yield buf;
          }
          complete = true;
        } finally {
          const rows = format === 'csv' ? Math.max(0, lines - 1) : lines;
          await audit(
            rows,
            complete ? `export complete (${format})` : `export interrupted (${format})`,
          ).catch(() => undefined);
        }
      }
      noStore(reply);
      reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="exposure-${safeName(inc.id)}.${format}"`);
      return reply.send(Readable.from(counted()));
    },
  );

  app.get('/api/audit', async (req, reply) => {
    requireRole(req, 'analyst');
    noStore(reply);
    return ctx.domain.listAudit(ctx.ws.engine);
  });

  app.get('/api/me', async (req) => who(req));
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}
