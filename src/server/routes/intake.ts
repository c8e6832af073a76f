import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { HttpError, requireRole, type ServerContext } from '../context.ts';

/** Body types the intake accepts; the body is never parsed in JavaScript, only spooled. */
const LINE_TYPES = [
  'application/x-ndjson',
  'application/jsonl',
  'application/json',
  'application/octet-stream',
  'text/plain',
];

let spoolSeq = 0;

/**
 * `POST /api/intake`: OCSF JSON lines in the body (gzip allowed with Content-Encoding: gzip),
 * answered with the same counts as `vigil ingest --json`. The body streams to a file in the
 * workspace (TCP backpressure holds a fast sender back while the disk catches up), then waits its
 * turn in the serial ingest lane; when that lane is full the request is refused with 503 and
 * Retry-After before the body is read.
 */
export function intakeRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.register(async (scope) => {
    // Hand the raw body stream to the handler untouched (the default JSON parser would buffer it).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(LINE_TYPES, (_req, payload, done) => done(null, payload));
    scope.addContentTypeParser('*', (_req, _payload, done) =>
      done(new HttpError(415, 'send OCSF JSON lines as application/x-ndjson'), undefined),
    );

    scope.post(
      '/api/intake',
      { config: { rateLimit: { max: ctx.limits.intakePerMinute, timeWindow: 60_000 } } },
      async (req, reply) => {
        requireRole(req, 'analyst');
        if (ctx.live.snapshot().pending >= ctx.live.maxPending) {
          reply.header('retry-after', '1');
          throw new HttpError(503, 'intake is busy; retry shortly');
        }
        const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
        if (encoding !== 'identity' && encoding !== 'gzip')
          throw new HttpError(415, 'only gzip content-encoding is accepted');
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > ctx.limits.intakeBytes)
          throw new HttpError(413, `body larger than ${ctx.limits.intakeBytes} bytes`);
        const body = req.body as NodeJS.ReadableStream | undefined;
        if (!body || typeof (body as NodeJS.ReadableStream).pipe !== 'function')
          throw new HttpError(400, 'empty body');

        fs.mkdirSync(ctx.spoolDir, { recursive: true });
        const ext = encoding === 'gzip' ? '.jsonl.gz' : '.jsonl';
        const file = path.join(ctx.spoolDir, `spool-${process.pid}-${Date.now()}-${++spoolSeq}${ext}`);
        let seen = 0;
        const limit = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            seen += chunk.length;
            if (seen > ctx.limits.intakeBytes)
              cb(new HttpError(413, `body larger than ${ctx.limits.intakeBytes} bytes`));
            else cb(null, chunk);
          },
        });
        const spooled = pipeline(body, limit, fs.createWriteStream(file)).then(
          () => file,
          (err: unknown) => {
            fs.rmSync(file, { force: true });
            throw err instanceof HttpError ? err : new HttpError(400, 'the body could not be read');
          },
        );
        // The lane place is taken now, in arrival order; the body keeps spooling meanwhile.
        return ctx.live.ingest(spooled, { spooled: true });
      },
    );
  });
}
