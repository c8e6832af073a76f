import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openWorkspace, updateHolder, type Workspace } from '../store/index.ts';
import { buildApp } from './app.ts';
import { TokenStore } from './auth.ts';
import { type Limits, type ServerContext, warmViews } from './context.ts';
import { type Domain, domain as defaultDomain } from './domain.ts';
import { Live } from './live.ts';
import { FolderWatcher } from './watcher.ts';
import { ensureConsoleBuilt } from './web-build.ts';

export interface ServeOptions {
  home: string;
  engineUrl?: string | undefined;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  watch?: string | undefined;
  /** Detection window in seconds; default: the site settings' runner window (5 minutes). */
  windowSeconds?: number | undefined;
  /** Build the console if it is missing or older than its sources (default true). */
  buildConsole?: boolean;
  limits?: Partial<Limits>;
  maxPending?: number;
  /** Operator messages and the access log (stderr by default). */
  log?: (line: string) => void;
  /** Compute incident views in the background after detection passes (default true). */
  warm?: boolean;
  /** Replaces the detection/scoping adapter (tests that need to see what the server asks of it). */
  domain?: Domain;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  ws: Workspace;
  live: Live;
  tokens: TokenStore;
  /** The admin token created on this start (first start only); shown once, never stored. */
  adminToken: string | null;
  close(): Promise<void>;
}

/** Who the server is when it computes views on its own (scoping records it as the asker). */
const SERVER_PRINCIPAL = { token_id: 'server', name: 'vigil serve', role: 'admin' } as const;

export const DEFAULT_LIMITS: Limits = {
  intakeBytes: 256 * 1024 * 1024,
  intakePerMinute: 1200,
  loginPerMinute: 30,
};

/**
 * Opens the workspace, catches detection up, and serves the API, intake and console. The
 * workspace stays held for the life of the server; its holder record names the URL, so a CLI
 * command on the same workspace can tell the user where the server is.
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const consoleDir = opts.buildConsole === false ? null : await ensureConsoleBuilt(log);
  const ws = await openWorkspace(opts.home, { command: 'serve', engineUrl: opts.engineUrl });
  try {
    const domain = opts.domain ?? defaultDomain;
    const tokens = new TokenStore(ws.engine);
    let adminToken: string | null = null;
    if (await tokens.needsAdmin()) adminToken = (await tokens.create('admin', 'admin', 'first start')).token;
    let ctx: ServerContext | null = null;
    const live = new Live(ws, domain, {
      windowSeconds: opts.windowSeconds,
      maxPending: opts.maxPending ?? 8,
      log,
      onDetected: () => {
        if (ctx && opts.warm !== false) warmViews(ctx, SERVER_PRINCIPAL);
      },
    });
    ctx = {
      ws,
      domain,
      tokens,
      live,
      limits: { ...DEFAULT_LIMITS, ...opts.limits },
      spoolDir: path.join(ws.home, 'intake'),
      cache: new Map(),
      seeding: new Map(),
      warming: null,
      warmAgain: false,
      closing: false,
    };
    const app = await buildApp(ctx, { consoleDir, accessLog: log });
    const context = ctx;
    await live.start();
    const host = opts.host ?? '127.0.0.1';
    await app.listen({ host, port: opts.port ?? 8470 });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 8470);
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    updateHolder(ws.home, { url });
    const watcher = opts.watch
      ? new FolderWatcher(ws.engine, {
          dir: path.resolve(opts.watch),
          intervalMs: 1000,
          ingest: (files) => live.ingest(files),
          log,
        })
      : null;
    await watcher?.start();
    let closing: Promise<void> | null = null;
    return {
      url,
      app,
      ws,
      live,
      tokens,
      adminToken,
      close() {
        closing ??= (async () => {
          await watcher?.close();
          context.closing = true;
          await app.close();
          await context.warming;
          await live.close();
          await ws.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await ws.close();
    throw err;
  }
}
