import { type ComponentChildren, h } from 'preact';
import type { AuditRecord } from '../../../server/index.ts';
import { num, t } from '../i18n.ts';
import { Async, Card, Table, useApi, when } from '../ui.ts';

export function AuditPage(): ComponentChildren {
  const f = useApi<AuditRecord[]>('/api/audit');
  return h(
    'div',
    { class: 'page' },
    h('h1', null, t('audit.title')),
    h('p', { class: 'muted' }, t('audit.help')),
    h(
      Card,
      null,
      h(Async<AuditRecord[]>, {
        f,
        children: (rows) =>
          h(Table<AuditRecord>, {
            rows,
            testid: 'audit',
            empty: t('audit.empty'),
            columns: [
              { key: 'col.at', cell: (r) => when(r.at), class: 'nowrap' },
              { key: 'col.actor', cell: (r) => r.actor },
              { key: 'col.action', cell: (r) => h('code', null, r.action) },
              {
                key: 'col.incident',
                cell: (r) => h('a', { href: `#/incident/${encodeURIComponent(r.incident)}` }, r.incident),
              },
              { key: 'col.rows', cell: (r) => num(r.rows), class: 'num' },
              { key: 'col.detail', cell: (r) => r.detail },
            ],
          }),
      }),
    ),
  );
}
