import { type ComponentChildren, h } from 'preact';
import { useState } from 'preact/hooks';
import type { Exposure, ScopeSummary } from '../../../server/index.ts';
import { type ApiError, api, download, type Principal } from '../api.ts';
import { barsOption, Chart, PALETTE } from '../chart.ts';
import { num, t } from '../i18n.ts';
import { Async, Card, ErrorBox, Loading, Stat, Table, useApi, when } from '../ui.ts';

type Operation = ScopeSummary['by_operation'][number];
type Origin = ScopeSummary['by_origin'][number];

function NotExposed(props: { s: ScopeSummary }): ComponentChildren {
  const evidence = new Map((props.s.not_exposed_evidence ?? []).map((e) => [e.category, e]));
  if (props.s.not_exposed.length === 0)
    return h('p', { class: 'muted' }, t('incident.scope.not_exposed.none'));
  return h(
    'ul',
    { class: 'not-exposed', 'data-testid': 'not-exposed' },
    props.s.not_exposed.map((c) => {
      const e = evidence.get(c);
      return h(
        'li',
        { key: c },
        h('strong', null, e?.label ? `${e.label} (${c})` : c),
        e ? h('div', { class: 'muted small' }, e.statement) : null,
      );
    }),
  );
}

export function ScopeCard(props: { incidentId: string; me: Principal }): ComponentChildren {
  const id = encodeURIComponent(props.incidentId);
  const f = useApi<ScopeSummary>(`/api/incidents/${id}/scope`);
  const canSee = props.me.role !== 'viewer';
  return h(
    Card,
    { title: t('incident.scope'), class: 'scope' },
    h(Async<ScopeSummary>, {
      f,
      children: (s) => {
        const cats = Object.entries(s.by_category);
        const ops = s.by_operation.slice(0, 12).map((o): [string, number] => [o.operation, o.people]);
        return h(
          'div',
          null,
          h(
            'div',
            { class: 'stats' },
            h(Stat, {
              label: t('incident.scope.subjects'),
              value: num(s.subjects),
              testid: 'scope-subjects',
              tone: 'big',
            }),
            h(Stat, {
              label: t('scope.confirmed'),
              value: num(s.by_confidence.confirmed),
              testid: 'scope-confirmed',
            }),
            h(Stat, {
              label: t('scope.probable'),
              value: num(s.by_confidence.probable),
              testid: 'scope-probable',
            }),
            Object.entries(s.by_subject_type ?? {}).map(([k, n]) =>
              h(Stat, { key: k, label: `${t('scope.subject_type')}: ${k}`, value: num(n) }),
            ),
            h(Stat, { label: t('incident.scope.first'), value: when(s.first_exposed) }),
            h(Stat, { label: t('incident.scope.last'), value: when(s.last_exposed) }),
          ),
          // A restarted server may show the stored computation while it checks for a newer one.
          h(
            'p',
            { class: 'muted small', 'data-testid': 'scope-computed' },
            t('scope.computed_at', { at: when(s.computed_at) }),
          ),
          s.catalog_gaps?.length
            ? h(
                'p',
                { class: 'notice' },
                `${t('scope.catalog_gaps')}: `,
                s.catalog_gaps.map((g) => `${g.operation} (${num(g.events)})`).join(', '),
              )
            : null,
          h(
            'div',
            { class: 'two-col' },
            h(
              'div',
              null,
              h('h3', null, t('incident.scope.by_category')),
              cats.length
                ? h(Chart, {
                    option: barsOption(cats),
                    height: 40 + cats.length * 30,
                    testid: 'chart-category',
                  })
                : h('p', { class: 'muted' }, t('common.none')),
              h(
                'table',
                { class: 'compact', 'data-testid': 'scope-by-category' },
                h(
                  'tbody',
                  null,
                  cats.map(([k, n]) =>
                    h(
                      'tr',
                      { key: k },
                      h('td', null, k),
                      h('td', { class: 'num', 'data-category': k }, num(n)),
                    ),
                  ),
                ),
              ),
              h('h3', null, t('incident.scope.not_exposed')),
              h(NotExposed, { s }),
            ),
            h(
              'div',
              null,
              h('h3', null, t('incident.scope.by_operation')),
              ops.length
                ? h(Chart, {
                    option: barsOption(ops, PALETTE.bar2),
                    height: 40 + ops.length * 30,
                    testid: 'chart-operation',
                  })
                : h('p', { class: 'muted' }, t('common.none')),
              h(Table<Operation>, {
                rows: s.by_operation,
                testid: 'scope-by-operation',
                limit: 8,
                columns: [
                  { key: 'col.operation', cell: (o) => h('code', null, o.operation) },
                  { key: 'scope.views', cell: (o) => num(o.views), class: 'num' },
                  { key: 'scope.people', cell: (o) => num(o.people), class: 'num' },
                  { key: 'col.categories', cell: (o) => o.categories.join(', ') },
                ],
              }),
              h('h3', null, t('scope.by_origin')),
              h(Table<Origin>, {
                rows: s.by_origin ?? [],
                limit: 6,
                columns: [
                  { key: 'col.country', cell: (o) => o.country || '—' },
                  { key: 'col.asn', cell: (o) => (o.asn ? `AS${o.asn}` : '—') },
                  { key: 'col.as_org', cell: (o) => o.as_org || '—' },
                  { key: 'col.events', cell: (o) => num(o.events), class: 'num' },
                  { key: 'scope.people', cell: (o) => num(o.people), class: 'num' },
                ],
              }),
            ),
          ),
          canSee
            ? h(SubjectAccess, { incidentId: props.incidentId })
            : h('p', { class: 'notice', 'data-testid': 'export-denied' }, t('incident.export.denied')),
        );
      },
    }),
  );
}

/** Analysts' and admins' access to subject rows: a preview and the export, both audited. */
function SubjectAccess(props: { incidentId: string }): ComponentChildren {
  const id = encodeURIComponent(props.incidentId);
  const [rows, setRows] = useState<Exposure[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<number | null>(null);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const exportAs = (format: 'csv' | 'jsonl') =>
    run(async () => {
      setDone(
        await download(
          `/api/incidents/${id}/export?format=${format}`,
          `exposure-${props.incidentId}.${format}`,
        ),
      );
    });
  return h(
    'div',
    { class: 'export' },
    h('h3', null, t('incident.export')),
    h('p', { class: 'muted small' }, t('incident.export.audited')),
    h(
      'div',
      { class: 'buttons' },
      h(
        'button',
        { class: 'btn', disabled: busy, onClick: () => exportAs('csv'), 'data-testid': 'export-csv' },
        t('incident.export.csv'),
      ),
      h(
        'button',
        { class: 'btn', disabled: busy, onClick: () => exportAs('jsonl') },
        t('incident.export.jsonl'),
      ),
      h(
        'button',
        {
          class: 'btn secondary',
          disabled: busy,
          'data-testid': 'show-rows',
          onClick: () =>
            run(async () => {
              setRows((await api<{ rows: Exposure[] }>(`/api/incidents/${id}/scope?subjects=50`)).rows);
            }),
        },
        t('incident.rows.show'),
      ),
    ),
    busy ? h(Loading, null) : null,
    error ? h(ErrorBox, { error }) : null,
    done !== null
      ? h('p', { class: 'ok', 'data-testid': 'export-done' }, t('incident.export.done', { n: num(done) }))
      : null,
    rows
      ? h(
          'div',
          null,
          h('h3', null, t('incident.rows.title')),
          h(Table<Exposure>, {
            rows,
            testid: 'subject-rows',
            columns: [
              { key: 'col.subject', cell: (r) => h('code', null, r.subject_id) },
              { key: 'col.type', cell: (r) => r.subject_type },
              { key: 'col.categories', cell: (r) => r.categories.join(', ') },
              { key: 'col.first_seen', cell: (r) => when(r.first_exposed) },
              { key: 'col.events', cell: (r) => num(r.events), class: 'num' },
              { key: 'col.confidence', cell: (r) => r.confidence },
            ],
          }),
        )
      : null,
  );
}
