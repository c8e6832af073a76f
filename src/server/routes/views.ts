import type { FastifyInstance } from 'fastify';
import { workspaceStatus } from '../../sources/status.ts';
import { isRole } from '../auth.ts';
import { HttpError, noStore, requireRole, type ServerContext, who } from '../context.ts';
import { dataHealth } from '../health.ts';
import { posture } from '../posture.ts';

/** Status, posture, data health, the console's metadata, login and token administration. */
export function viewRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/status', async (_req, reply) => {
    noStore(reply);
    return workspaceStatus(ctx.ws);
  });

  app.get('/api/posture', async (_req, reply) => {
    noStore(reply);
    return posture(ctx.ws.engine);
  });

  app.get('/api/health', async (_req, reply) => {
    noStore(reply);
    return dataHealth(ctx.ws.engine, ctx.live.snapshot(), ctx.live.windowSeconds);
  });

  app.get('/api/meta', async (req) => ({
    principal: who(req),
    window_seconds: ctx.live.windowSeconds,
  }));

  // The console's login: checks the token and says whose it is. Rate-limited against guessing.
  app.post(
    '/api/login',
    { config: { rateLimit: { max: ctx.limits.loginPerMinute, timeWindow: 60_000 } } },
    async (req) => who(req),
  );

  app.get('/api/tokens', async (req, reply) => {
    requireRole(req, 'admin');
    noStore(reply);
    return ctx.tokens.list();
  });

  app.post<{ Body: { role?: unknown; name?: unknown } }>('/api/tokens', async (req, reply) => {
    const p = requireRole(req, 'admin');
    const { role, name } = req.body ?? {};
    if (!isRole(role)) throw new HttpError(400, 'role must be viewer, analyst or admin');
    if (typeof name !== 'string' || !/^[\w .@-]{1,64}$/.test(name))
      throw new HttpError(400, 'name must be 1–64 letters, digits, spaces or ._@-');
    noStore(reply);
    reply.code(201);
    return ctx.tokens.create(role, name, p.token_id);
  });

  app.delete<{ Params: { id: string } }>('/api/tokens/:id', async (req) => {
    const p = requireRole(req, 'admin');
    if (req.params.id === p.token_id) throw new HttpError(400, 'a token cannot revoke itself');
    if (!(await ctx.tokens.revoke(req.params.id, p.token_id)))
      throw new HttpError(404, 'no such active token');
    return { revoked: req.params.id };
  });
}
