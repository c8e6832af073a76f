import { type ComponentChildren, h } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { Incident } from '../../../server/index.ts';
import { type Key, num, t } from '../i18n.ts';
import { Async, Card, duration, SeverityBadge, Table, useApi, when } from '../ui.ts';

type Listed = Incident & { subjects_exposed: number | null };

const SEVERITIES = ['critical', 'high', 'medium', 'low'];

export function delaySeconds(i: Incident): number | null {
  const a = Date.parse(i.first_seen);
  const b = Date.parse(i.detected_at);
  return Number.isFinite(a) && Number.isFinite(b) ? (b - a) / 1000 : null;
}

export function IncidentsPage(props: { go: (hash: string) => void }): ComponentChildren {
  const f = useApi<Listed[]>('/api/incidents');
  const [severity, setSeverity] = useState('');
  const [status, setStatus] = useState('');
  const [q, setQ] = useState('');
  const statuses = useMemo(() => [...new Set((f.data ?? []).map((i) => i.status))].sort(), [f.data]);
  const filtered = (f.data ?? []).filter(
    (i) =>
      (!severity || i.severity === severity) &&
      (!status || i.status === status) &&
      (!q ||
        i.title.toLowerCase().includes(q.toLowerCase()) ||
        i.entities.some((e) => e.id.toLowerCase().includes(q.toLowerCase()))),
  );
  const select = (label: Key, value: string, set: (v: string) => void, options: string[], id: string) =>
    h(
      'label',
      { class: 'filter' },
      h('span', null, t(label)),
      h(
        'select',
        { value, id, onChange: (e: Event) => set((e.target as HTMLSelectElement).value) },
        h('option', { value: '' }, t('incidents.filter.all')),
        options.map((o) => h('option', { value: o, key: o }, o)),
      ),
    );
  return h(
    'div',
    { class: 'page' },
    h('h1', null, t('incidents.title')),
    h(
      Card,
      {
        actions: h(
          'div',
          { class: 'filters' },
          select('incidents.filter.severity', severity, setSeverity, SEVERITIES, 'f-severity'),
          select('incidents.filter.status', status, setStatus, statuses, 'f-status'),
          h('input', {
            class: 'search',
            type: 'search',
            placeholder: t('incidents.filter.search'),
            value: q,
            onInput: (e: Event) => setQ((e.target as HTMLInputElement).value),
          }),
        ),
        title: f.data ? t('incidents.count', { n: filtered.length }) : t('incidents.title'),
      },
      h(Async<Listed[]>, {
        f,
        children: () =>
          h(Table<Listed>, {
            testid: 'incidents',
            rows: filtered,
            empty: t('incidents.empty'),
            rowKey: (i) => i.id,
            onRow: (i) => props.go(`#/incident/${encodeURIComponent(i.id)}`),
            columns: [
              { key: 'col.severity', cell: (i) => h(SeverityBadge, { severity: i.severity }) },
              {
                key: 'col.title',
                cell: (i) =>
                  h(
                    'a',
                    { href: `#/incident/${encodeURIComponent(i.id)}`, class: 'incident-link' },
                    i.title,
                    h('div', { class: 'muted small' }, i.id),
                  ),
              },
              { key: 'col.status', cell: (i) => h('span', { class: `status st-${i.status}` }, i.status) },
              { key: 'col.first_seen', cell: (i) => when(i.first_seen), class: 'nowrap' },
              { key: 'col.detected_at', cell: (i) => when(i.detected_at), class: 'nowrap' },
              { key: 'col.delay', cell: (i) => duration(delaySeconds(i)), class: 'num' },
              { key: 'col.subjects', cell: (i) => num(i.subjects_exposed), class: 'num' },
            ],
          }),
      }),
    ),
  );
}
