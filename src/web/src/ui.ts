import { type ComponentChildren, h } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api } from './api.ts';
import { type Key, num, t } from './i18n.ts';

export interface Fetched<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Fetches `path` (null = not yet) and re-fetches when it changes; errors are kept, never swallowed. */
export function useApi<T>(path: string | null): Fetched<T> {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({
    data: null,
    error: null,
    loading: path !== null,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    api<T>(path).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (err: unknown) =>
        live &&
        setState({
          data: null,
          error: err instanceof ApiError ? err : new ApiError(0, String(err)),
          loading: false,
        }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

export function errorText(err: ApiError): string {
  if (err.status === 0) return t('error.network');
  if (err.status === 403) return `${t('error.forbidden')} (${err.message})`;
  if (err.status === 503) return `${t('state.unavailable')}: ${err.message}`;
  return t('error.status', { status: err.status, message: err.message });
}

export function Loading(): ComponentChildren {
  return h(
    'div',
    { class: 'state loading', role: 'status' },
    h('span', { class: 'spinner' }),
    t('state.loading'),
  );
}

export function ErrorBox(props: { error: ApiError; retry?: () => void }): ComponentChildren {
  return h(
    'div',
    { class: 'state error', role: 'alert' },
    h('strong', null, t('state.error')),
    h('span', null, errorText(props.error)),
    props.retry ? h('button', { class: 'btn small', onClick: props.retry }, t('state.retry')) : null,
  );
}

export function Empty(props: { text?: string }): ComponentChildren {
  return h('div', { class: 'state empty' }, props.text ?? t('state.empty'));
}

/** Renders loading, error or the content for a fetched value. */
export function Async<T>(props: {
  f: Fetched<T>;
  children: (data: T) => ComponentChildren;
}): ComponentChildren {
  const { f } = props;
  if (f.error) return h(ErrorBox, { error: f.error, retry: f.reload });
  if (f.loading || f.data === null) return h(Loading, null);
  return h('div', { class: 'async' }, props.children(f.data));
}

export function Card(props: {
  title?: string;
  class?: string;
  children?: ComponentChildren;
  actions?: ComponentChildren;
}): ComponentChildren {
  return h(
    'section',
    { class: `card ${props.class ?? ''}` },
    props.title || props.actions
      ? h(
          'header',
          { class: 'card-head' },
          props.title ? h('h2', null, props.title) : null,
          props.actions ?? null,
        )
      : null,
    props.children,
  );
}

export interface Column<R> {
  key: Key;
  cell: (row: R) => ComponentChildren;
  class?: string;
}

export function Table<R>(props: {
  rows: R[];
  columns: Column<R>[];
  empty?: string;
  rowKey?: (r: R, i: number) => string;
  onRow?: (r: R) => void;
  testid?: string;
  /** Rows shown before a "show all" button (default: all). */
  limit?: number;
}): ComponentChildren {
  const [all, setAll] = useState(false);
  if (props.rows.length === 0) return h(Empty, props.empty ? { text: props.empty } : {});
  const shown = all || !props.limit ? props.rows : props.rows.slice(0, props.limit);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      props.testid ? { 'data-testid': props.testid } : null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          props.columns.map((c) => h('th', { key: c.key, class: c.class }, t(c.key))),
        ),
      ),
      h(
        'tbody',
        null,
        shown.map((r, i) =>
          h(
            'tr',
            {
              key: props.rowKey ? props.rowKey(r, i) : String(i),
              class: props.onRow ? 'clickable' : undefined,
              onClick: props.onRow ? () => props.onRow?.(r) : undefined,
            },
            props.columns.map((c) => h('td', { key: c.key, class: c.class }, c.cell(r))),
          ),
        ),
      ),
    ),
    shown.length < props.rows.length
      ? h(MoreButton, { shown: shown.length, total: props.rows.length, onClick: () => setAll(true) })
      : null,
  );
}

export function MoreButton(props: { shown: number; total: number; onClick: () => void }): ComponentChildren {
  return h(
    'button',
    { class: 'btn link more', onClick: props.onClick },
    t('common.show_all', { shown: num(props.shown), total: num(props.total) }),
  );
}

export function SeverityBadge(props: { severity: string }): ComponentChildren {
  const key = `severity.${props.severity}` as Key;
  return h('span', { class: `badge sev-${props.severity}` }, t(key) === key ? props.severity : t(key));
}

export function Stat(props: {
  label: string;
  value: ComponentChildren;
  testid?: string;
  tone?: string;
}): ComponentChildren {
  return h(
    'div',
    { class: `stat ${props.tone ?? ''}` },
    h('div', { class: 'stat-label' }, props.label),
    h('div', { class: 'stat-value', 'data-testid': props.testid }, props.value),
  );
}

/** An ISO or ClickHouse time, shown as "YYYY-MM-DD HH:mm UTC". */
export function when(v: string | null | undefined): string {
  if (!v) return '—';
  const iso = /Z$|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return v;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A duration in seconds as "3m", "2h 5m", "4d 2h". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.round((s % 86400) / 3600)}h`;
}
