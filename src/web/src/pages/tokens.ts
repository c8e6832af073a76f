import { type ComponentChildren, h } from 'preact';
import { useState } from 'preact/hooks';
import type { TokenInfo } from '../../../server/index.ts';
import { type ApiError, api } from '../api.ts';
import { t } from '../i18n.ts';
import { Async, Card, ErrorBox, Table, useApi, when } from '../ui.ts';

/** Admins create and revoke tokens; a new token is shown once, here, and never again. */
export function TokensPage(): ComponentChildren {
  const f = useApi<TokenInfo[]>('/api/tokens');
  const [role, setRole] = useState('viewer');
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api<{ token: string }>('/api/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ role, name }),
      });
      setCreated(r.token);
      setName('');
      f.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const revoke = async (id: string) => {
    setError(null);
    try {
      await api(`/api/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
      f.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return h(
    'div',
    { class: 'page' },
    h('h1', null, t('tokens.title')),
    h(
      Card,
      { title: t('tokens.create') },
      h(
        'form',
        { class: 'inline-form', onSubmit: create },
        h(
          'select',
          { value: role, onChange: (e: Event) => setRole((e.target as HTMLSelectElement).value) },
          ['viewer', 'analyst', 'admin'].map((r) => h('option', { key: r, value: r }, r)),
        ),
        h('input', {
          value: name,
          required: true,
          placeholder: t('col.name'),
          onInput: (e: Event) => setName((e.target as HTMLInputElement).value),
        }),
        h('button', { class: 'btn', type: 'submit' }, t('tokens.create')),
      ),
      created
        ? h(
            'div',
            { class: 'ok' },
            h('p', null, t('tokens.created')),
            h('code', { class: 'secret' }, created),
          )
        : null,
      error ? h(ErrorBox, { error }) : null,
    ),
    h(
      Card,
      null,
      h(Async<TokenInfo[]>, {
        f,
        children: (rows) =>
          h(Table<TokenInfo>, {
            rows,
            columns: [
              { key: 'col.id', cell: (r) => h('code', null, r.token_id) },
              { key: 'col.name', cell: (r) => r.name },
              { key: 'col.role', cell: (r) => r.role },
              { key: 'col.created_on', cell: (r) => when(r.created_at) },
              {
                key: 'col.revoked',
                cell: (r) =>
                  r.revoked
                    ? t('common.yes')
                    : h(
                        'button',
                        { class: 'btn small secondary', onClick: () => revoke(r.token_id) },
                        t('tokens.revoke'),
                      ),
              },
            ],
          }),
      }),
    ),
  );
}
