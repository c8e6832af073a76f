import fs from 'node:fs';
import path from 'node:path';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { UserError } from '../cli/errors.ts';
import { bearer } from './auth.ts';
import { HttpError, type ServerContext } from './context.ts';
import { Busy } from './live.ts';
import { incidentRoutes } from './routes/incidents.ts';
import { intakeRoutes } from './routes/intake.ts';
import { viewRoutes } from './routes/views.ts';

export interface AppOptions {
  /** The built console (index.html and assets), or null to serve the API only. */
  consoleDir: string | null;
  /** One line per request: method, route pattern, status, duration. Never a token or a subject. */
  accessLog: (line: string) => void;
}

/**
 * The Fastify app: security headers, rate limits, bearer-token auth on every /api route, the API,
 * and the console. Fastify's own logger stays off: it would print URLs (which may carry ids); the
 * access log below prints the route *pattern* instead, and errors by class, never by content.
 */
export async function buildApp(ctx: ServerContext, opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    // Keep-alive connections from a browser must not hold a shutdown.
    forceCloseConnections: true,
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    // Exports are downloaded through blob: URLs from the same origin.
    crossOriginEmbedderPolicy: false,
  });
  await app.register(rateLimit, { global: false });

  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/') && req.url !== '/api') return;
    const principal = await ctx.tokens.verify(bearer(req.headers.authorization));
    if (!principal) throw new HttpError(401, 'missing or invalid token');
    req.principal = principal;
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? (req.url.startsWith('/api') ? '/api/(unknown)' : '/(static)');
    opts.accessLog(
      JSON.stringify({
        t: new Date().toISOString(),
        method: req.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      }),
    );
  });

  app.setErrorHandler((err: FastifyError | Error, _req, reply) => {
    const status =
      err instanceof HttpError
        ? err.status
        : err instanceof Busy
          ? 503
          : err instanceof UserError
            ? 400
            : 'statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400
              ? err.statusCode
              : 500;
    if (err instanceof Busy) reply.header('retry-after', '1');
    if (status === 401) reply.header('www-authenticate', 'Bearer');
    if (status >= 500 && !(err instanceof Busy)) {
      // The message may quote SQL or values; the operator gets its class and a redacted first line.
      opts.accessLog(
        JSON.stringify({ t: new Date().toISOString(), error: err.name, detail: redact(err.message) }),
      );
      return reply.code(status).send({ error: 'internal error; see the server log' });
    }
    return reply.code(status).send({ error: err.message });
  });

  incidentRoutes(app, ctx);
  intakeRoutes(app, ctx);
  viewRoutes(app, ctx);

  if (opts.consoleDir && fs.existsSync(path.join(opts.consoleDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: opts.consoleDir, prefix: '/', index: 'index.html' });
    // The console routes in the browser (#/…); anything else that is not a file gets the page.
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api')) return reply.sendFile('index.html');
      return reply.code(404).send({ error: 'not found' });
    });
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send('vigil API is running; the console is not built.'),
    );
  }
  return app;
}

/** First line of an error message with quoted strings and long digit runs blanked. */
function redact(message: string): string {
  return (message.split('\n')[0] ?? '')
    .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\d{6,}/g, '…')
    .slice(0, 300);
}
