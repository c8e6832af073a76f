import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { domain } from '../server/domain.ts';
import { type RunningServer, startServer } from '../server/server.ts';
import { ingestInputs } from '../sources/index.ts';
import { withWorkspace } from '../store/index.ts';
import { chromiumMissing, launchBrowser, screenshot, watchErrors } from './testing.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const VIGIL = path.join(ROOT, 'bin', 'vigil.mjs');

interface CliScope {
  incident: string;
  subjects: number;
  by_category: Record<string, number>;
  by_confidence: { confirmed: number; probable: number };
}

const en = (n: number) => n.toLocaleString('en-US');

describe('the console in a real browser', { timeout: 180_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-console-'));
  const home = path.join(tmp, 'ws');
  const sim = path.join(tmp, 'sim');
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let incidentId: string;
  let cli: CliScope;
  let analyst: string;
  let viewer: string;

  before(async () => {
    const missing = chromiumMissing();
    if (missing) throw new Error(missing);
    await run(process.execPath, [
      VIGIL,
      'simulate',
      '--out',
      sim,
      '--customers',
      '2000',
      '--days',
      '3',
      '--seed',
      '3',
    ]);
    // Ingest and detect in this process, then ask the CLI for the scope: the console must match it.
    incidentId = await withWorkspace(home, {}, async (ws) => {
      await ingestInputs(ws, [path.join(sim, 'events')], {
        reference: {
          people: path.join(sim, 'people.csv'),
          keys: path.join(sim, 'keys.csv'),
          services: path.join(sim, 'services.csv'),
          catalog: path.join(sim, 'catalog.yaml'),
        },
      });
      await domain.advance(ws, {});
      const list = await domain.listIncidents(ws.engine);
      const top = list.find((i) => i.severity === 'critical') ?? list[0];
      assert.ok(top, 'the simulated attacks raise incidents');
      return top.id;
    });
    const { stdout } = await run(process.execPath, [VIGIL, '--home', home, 'scope', incidentId, '--json']);
    cli = JSON.parse(stdout) as CliScope;
    server = await startServer({
      home,
      port: 0,
      log: (l) => {
        if (process.env.DEBUG_TEST) process.stderr.write(`${l}\n`);
      },
    });
    analyst = (await server.tokens.create('analyst', 'Ana Analyst', 'test')).token;
    viewer = (await server.tokens.create('viewer', 'Vic Viewer', 'test')).token;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(server.url);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=incidents]');
  }

  it('lets an analyst open the incident, see the timeline and the CLI scope, export, and find the audit row', async () => {
    const page = await browser.context.newPage();
    const errors = watchErrors(page);
    await signIn(page, analyst);
    assert.match((await page.textContent('[data-testid=role]')) ?? '', /Ana Analyst · analyst/);
    await screenshot(page, 'incidents');

    await page.click(`a[href="#/incident/${incidentId}"]`);
    await page.waitForSelector('[data-testid=timeline-chart] canvas');
    await page.waitForSelector('[data-testid=scope-subjects]');
    // The timeline has data: some requests from the incident's entities.
    const totals = (await page.textContent('[data-testid=timeline-totals]')) ?? '';
    assert.match(totals, /Requests: [1-9]/);
    // The scope numbers are the CLI's.
    assert.equal(await page.textContent('[data-testid=scope-subjects]'), en(cli.subjects));
    assert.equal(await page.textContent('[data-testid=scope-confirmed]'), en(cli.by_confidence.confirmed));
    assert.equal(await page.textContent('[data-testid=scope-probable]'), en(cli.by_confidence.probable));
    for (const [category, n] of Object.entries(cli.by_category)) {
      assert.equal(
        await page.textContent(`[data-testid=scope-by-category] [data-category="${category}"]`),
        en(n),
        category,
      );
    }
    assert.ok((await page.locator('[data-testid=findings] .finding').count()) > 0);
    await screenshot(page, 'incident');

    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 20_000 }).catch(async (err: Error) => {
        await screenshot(page, 'incident-export-failed');
        const alert = await page.locator('[role=alert]').allTextContents();
        throw new Error(`no download: ${err.message}; alerts: ${alert.join(' | ')}`);
      }),
      page.click('[data-testid=export-csv]'),
    ]);
    const file = path.join(tmp, 'export.csv');
    await download.saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length - 1, cli.subjects, 'the export has one row per exposed subject');
    await page.waitForSelector('[data-testid=export-done]');

    await page.click('a[href="#/audit"]');
    await page.waitForSelector('[data-testid=audit]');
    const rows = await page.locator('[data-testid=audit] tbody tr').allTextContents();
    assert.ok(
      rows.some(
        (r) =>
          r.includes('Ana Analyst') &&
          r.includes('scope.export') &&
          r.includes(incidentId) &&
          r.includes(en(cli.subjects)),
      ),
      `no audit row for the export in:\n${rows.join('\n')}`,
    );
    await screenshot(page, 'audit');

    await page.click('a[href="#/posture"]');
    await page.waitForSelector('[data-testid=posture-keys-left]');
    await screenshot(page, 'posture');
    await page.click('a[href="#/health"]');
    await page.waitForSelector('[data-testid=health-events]');
    assert.notEqual(await page.textContent('[data-testid=health-events]'), '0');
    await screenshot(page, 'health');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('refuses subject-level exposure to a viewer', async () => {
    const page = await browser.context.newPage();
    const errors = watchErrors(page);
    await signIn(page, viewer);
    await page.goto(`${server.url}#/incident/${incidentId}`);
    await page.waitForSelector('[data-testid=scope-subjects]');
    assert.equal(await page.textContent('[data-testid=scope-subjects]'), en(cli.subjects));
    await page.waitForSelector('[data-testid=export-denied]');
    assert.equal(await page.locator('[data-testid=export-csv]').count(), 0);
    assert.equal(await page.locator('a[href="#/audit"]').count(), 0);
    const status = await page.evaluate(async (id) => {
      const token = sessionStorage.getItem('vigil.token');
      const r = await fetch(`/api/incidents/${id}/export?format=csv`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return r.status;
    }, incidentId);
    assert.equal(status, 403);
    await screenshot(page, 'incident-viewer');
    // The refused fetch above is the only expected console error (the browser logs every 403).
    assert.deepEqual(
      errors.filter((e) => !e.includes('403')),
      [],
    );
    await page.close();
  });

  it('speaks Korean on request and says so when a token is wrong', async () => {
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await page.fill('#token', 'vgl_wrong');
    await page.click('button[type=submit]');
    await page.waitForSelector('.login [role=alert]');
    assert.match((await page.textContent('.login [role=alert]')) ?? '', /not valid/);
    await page.click('[data-testid=lang]');
    assert.equal(await page.textContent('button[type=submit]'), '로그인');
    const errors = watchErrors(page);
    await page.fill('#token', analyst);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=incidents]');
    assert.equal(await page.textContent('.top nav a.active'), '사고');
    await page.goto(`${server.url}#/incident/${incidentId}`);
    await page.waitForSelector('[data-testid=timeline-chart] canvas');
    await page.waitForSelector('[data-testid=scope-subjects]');
    await screenshot(page, 'incident-ko');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
