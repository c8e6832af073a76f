import { type ComponentChildren, h } from 'preact';
import type { Posture } from '../../../server/posture.ts';
import { num, t } from '../i18n.ts';
import { Async, Card, Table, useApi, when } from '../ui.ts';

export function PosturePage(): ComponentChildren {
  const f = useApi<Posture>('/api/posture');
  return h(
    'div',
    { class: 'page' },
    h('h1', null, t('posture.title')),
    h(Async<Posture>, {
      f,
      children: (p) => [
        h('p', { class: 'muted', key: 'asof' }, t('posture.as_of', { date: when(p.as_of) })),
        h(
          Card,
          {
            title: t('posture.keys_custodian_left'),
            key: 'kcl',
            class: p.keys_custodian_left.length ? 'alert' : '',
          },
          h(Table<Posture['keys_custodian_left'][number]>, {
            rows: p.keys_custodian_left,
            testid: 'posture-keys-left',
            empty: t('posture.ok'),
            columns: [
              { key: 'col.key', cell: (k) => h('code', null, k.key_id) },
              { key: 'col.purpose', cell: (k) => k.purpose },
              { key: 'col.created_on', cell: (k) => k.created_on ?? '—' },
              {
                key: 'col.custodians',
                cell: (k) =>
                  k.custodians_left
                    .map((c) => `${c.person_id} (${t('common.left', { date: c.left_on })})`)
                    .join(', '),
              },
              { key: 'posture.events_since_left', cell: (k) => num(k.events_since_left), class: 'num' },
            ],
          }),
        ),
        h(
          Card,
          { title: t('posture.keys_past_rotation', { days: p.rotation_days }), key: 'kpr' },
          h(Table<Posture['keys_past_rotation'][number]>, {
            rows: p.keys_past_rotation,
            empty: t('posture.ok'),
            columns: [
              { key: 'col.key', cell: (k) => h('code', null, k.key_id) },
              { key: 'col.purpose', cell: (k) => k.purpose },
              { key: 'col.created_on', cell: (k) => k.created_on },
              { key: 'col.age_days', cell: (k) => num(k.age_days), class: 'num' },
            ],
          }),
        ),
        h(
          Card,
          { title: t('posture.departed'), key: 'dep', class: p.departed_with_activity.length ? 'alert' : '' },
          h(Table<Posture['departed_with_activity'][number]>, {
            rows: p.departed_with_activity,
            empty: t('posture.ok'),
            columns: [
              { key: 'col.person', cell: (r) => h('code', null, r.person_id) },
              { key: 'col.department', cell: (r) => r.department },
              { key: 'col.role', cell: (r) => r.role },
              { key: 'col.left_on', cell: (r) => r.left_on },
              { key: 'col.events', cell: (r) => num(r.events), class: 'num' },
              { key: 'col.last_seen', cell: (r) => when(r.last_seen) },
            ],
          }),
        ),
        h(
          Card,
          { title: t('posture.catalog_gaps'), key: 'gaps' },
          h(Table<Posture['catalog_gaps'][number]>, {
            rows: p.catalog_gaps,
            empty: t('posture.ok'),
            columns: [
              { key: 'col.operation', cell: (g) => h('code', null, g.operation) },
              { key: 'col.events', cell: (g) => num(g.events), class: 'num' },
              { key: 'col.last_seen', cell: (g) => when(g.last_seen) },
            ],
          }),
        ),
      ],
    }),
  );
}
