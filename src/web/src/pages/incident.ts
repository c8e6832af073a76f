import { type ComponentChildren, h } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { IncidentEntities } from '../../../server/entities.ts';
import type { Incident, IncidentFinding } from '../../../server/index.ts';
import type { Timeline } from '../../../server/timeline.ts';
import type { Principal } from '../api.ts';
import { Chart, type ChartOption, PALETTE } from '../chart.ts';
import { num, t } from '../i18n.ts';
import { Async, Card, duration, MoreButton, SeverityBadge, Stat, Table, useApi, when } from '../ui.ts';
import { delaySeconds } from './incidents.ts';
import { ScopeCard } from './scope.ts';

function timelineOption(tl: Timeline): ChartOption {
  const x = tl.points.map((p) => p.t);
  const label = (v: string) =>
    tl.bucket === 'day' ? v.slice(5, 10) : `${v.slice(5, 10)} ${v.slice(11, 16)}`;
  return {
    animation: false,
    grid: { left: 56, right: 56, top: 40, bottom: 36 },
    tooltip: { trigger: 'axis' },
    legend: { top: 0, data: [t('incident.series.requests'), t('incident.series.subjects')] },
    xAxis: { type: 'category', data: x, axisLabel: { formatter: label, hideOverlap: true } },
    yAxis: [
      { type: 'value', name: t('incident.series.requests'), nameTextStyle: { align: 'left' } },
      {
        type: 'value',
        name: t('incident.series.subjects'),
        nameTextStyle: { align: 'right' },
        splitLine: { show: false },
      },
    ],
    series: [
      {
        name: t('incident.series.requests'),
        type: 'bar',
        data: tl.points.map((p) => p.requests),
        itemStyle: { color: PALETTE.attack, opacity: 0.8 },
        barMaxWidth: 14,
        markLine: {
          symbol: 'none',
          silent: true,
          lineStyle: { type: 'dashed', color: PALETTE.normal },
          label: { formatter: `${t('incident.series.normal_requests')}: {c}`, position: 'insideStartTop' },
          data: [{ yAxis: tl.normal.requests }],
        },
      },
      {
        name: t('incident.series.subjects'),
        type: 'line',
        yAxisIndex: 1,
        data: tl.points.map((p) => p.subjects),
        symbol: 'none',
        lineStyle: { width: 2, color: PALETTE.subjects },
        itemStyle: { color: PALETTE.subjects },
        markLine: {
          symbol: 'none',
          silent: true,
          lineStyle: { type: 'dotted', color: PALETTE.subjects },
          label: { formatter: `${t('incident.series.normal_subjects')}: {c}`, position: 'insideEndTop' },
          data: [{ yAxis: tl.normal.subjects }],
        },
      },
    ],
  };
}

function TimelineCard(props: { id: string }): ComponentChildren {
  const f = useApi<Timeline>(`/api/incidents/${encodeURIComponent(props.id)}/timeline`);
  const option = useMemo(() => (f.data ? timelineOption(f.data) : null), [f.data]);
  return h(
    Card,
    { title: t('incident.timeline'), class: 'timeline' },
    h(Async<Timeline>, {
      f,
      children: (tl) =>
        h(
          'div',
          null,
          h(
            'p',
            { class: 'muted small' },
            t('incident.timeline.help', {
              bucket: t(tl.bucket === 'day' ? 'incident.bucket.day' : 'incident.bucket.hour'),
            }),
          ),
          option ? h(Chart, { option, height: 300, testid: 'timeline-chart' }) : null,
          h(
            'div',
            { class: 'muted small', 'data-testid': 'timeline-totals' },
            `${t('incident.series.requests')}: ${num(tl.points.reduce((n, p) => n + p.requests, 0))} · ` +
              `${t('incident.series.normal_requests')}: ${num(tl.normal.requests)} / ${t(tl.bucket === 'day' ? 'incident.bucket.day' : 'incident.bucket.hour')}`,
          ),
        ),
    }),
  );
}

function EntitiesCard(props: { id: string }): ComponentChildren {
  const f = useApi<IncidentEntities>(`/api/incidents/${encodeURIComponent(props.id)}/entities`);
  const left = (d: string | null) =>
    d
      ? h('span', { class: 'badge warn' }, t('common.left', { date: d }))
      : h('span', { class: 'muted' }, t('common.still_employed'));
  return h(
    Card,
    { title: t('incident.entities') },
    h(Async<IncidentEntities>, {
      f,
      children: (e) =>
        h(
          'div',
          { class: 'entities' },
          e.addresses.length
            ? h(
                'div',
                null,
                h('h3', null, t('entity.addresses')),
                h(Table<IncidentEntities['addresses'][number]>, {
                  rows: e.addresses,
                  testid: 'entity-addresses',
                  limit: 8,
                  columns: [
                    { key: 'col.ip', cell: (a) => h('code', null, a.ip) },
                    { key: 'col.country', cell: (a) => a.country || '—' },
                    { key: 'col.asn', cell: (a) => (a.asn ? `AS${a.asn}` : '—') },
                    { key: 'col.as_org', cell: (a) => a.as_org || '—' },
                    { key: 'col.net_class', cell: (a) => a.net_class || '—' },
                    { key: 'col.events', cell: (a) => num(a.events), class: 'num' },
                    { key: 'col.last_seen', cell: (a) => when(a.last_seen), class: 'nowrap' },
                  ],
                }),
              )
            : null,
          e.keys.length
            ? h(
                'div',
                null,
                h('h3', null, t('entity.keys')),
                h(Table<IncidentEntities['keys'][number]>, {
                  rows: e.keys,
                  testid: 'entity-keys',
                  limit: 8,
                  columns: [
                    { key: 'col.key', cell: (k) => h('code', null, k.key_id) },
                    { key: 'col.purpose', cell: (k) => k.purpose },
                    { key: 'col.created_on', cell: (k) => k.created_on ?? '—' },
                    { key: 'col.retired_on', cell: (k) => k.retired_on ?? t('common.never') },
                    {
                      key: 'col.custodians',
                      cell: (k) =>
                        k.custodians.length
                          ? h(
                              'ul',
                              { class: 'plain' },
                              k.custodians.map((c) =>
                                h(
                                  'li',
                                  { key: c.person_id },
                                  h('code', null, c.person_id),
                                  ' ',
                                  left(c.left_on),
                                ),
                              ),
                            )
                          : '—',
                    },
                  ],
                }),
              )
            : null,
          e.accounts.length
            ? h(
                'div',
                null,
                h('h3', null, t('entity.accounts')),
                h(Table<IncidentEntities['accounts'][number]>, {
                  rows: e.accounts,
                  limit: 8,
                  columns: [
                    { key: 'col.account', cell: (a) => h('code', null, a.actor) },
                    {
                      key: 'col.kind',
                      cell: (a) => (a.kind === 'unknown' ? t('entity.not_in_roster') : a.kind),
                    },
                    { key: 'col.person', cell: (a) => a.person_id ?? a.owner_team ?? '—' },
                    { key: 'col.department', cell: (a) => a.department || '—' },
                    { key: 'col.role', cell: (a) => a.role || '—' },
                    { key: 'col.left_on', cell: (a) => (a.kind === 'person' ? left(a.left_on) : '—') },
                  ],
                }),
              )
            : null,
          e.people.length
            ? h(
                'div',
                null,
                h('h3', null, t('entity.people')),
                h(Table<IncidentEntities['people'][number]>, {
                  rows: e.people,
                  limit: 8,
                  columns: [
                    { key: 'col.person', cell: (p) => h('code', null, p.person_id) },
                    { key: 'col.department', cell: (p) => p.department },
                    { key: 'col.role', cell: (p) => p.role },
                    { key: 'col.country', cell: (p) => p.country },
                    { key: 'col.left_on', cell: (p) => left(p.left_on) },
                  ],
                }),
              )
            : null,
          e.other.length
            ? h(
                'div',
                null,
                h('h3', null, t('entity.other')),
                h(
                  'ul',
                  { class: 'chips' },
                  e.other
                    .slice(0, 40)
                    .map((o) =>
                      h(
                        'li',
                        { key: `${o.type}:${o.id}` },
                        h('span', { class: 'muted' }, o.type),
                        ' ',
                        h('code', null, o.id),
                      ),
                    ),
                ),
              )
            : null,
        ),
    }),
  );
}

/** One evidence value: lists of scalars as chips, lists of small records as "a · b" chips, else JSON. */
function evidenceValue(v: unknown): ComponentChildren {
  if (typeof v === 'number') return num(v);
  if (v === null || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '—';
    const small = v.every(
      (x) =>
        x === null || typeof x !== 'object' || (!Array.isArray(x) && Object.keys(x as object).length <= 3),
    );
    if (small)
      return v.slice(0, 20).map((x, i) =>
        h(
          'code',
          { key: i, class: 'chip' },
          x !== null && typeof x === 'object'
            ? Object.values(x as Record<string, unknown>)
                .map((y) => (typeof y === 'object' ? JSON.stringify(y) : String(y)))
                .join(' · ')
            : String(x),
        ),
      );
  }
  return h('pre', null, JSON.stringify(v, null, 1));
}

function Evidence(props: { evidence: Record<string, unknown> }): ComponentChildren {
  return h(
    'dl',
    { class: 'evidence' },
    Object.entries(props.evidence).map(([k, v]) => [
      h('dt', { key: `k-${k}` }, k.replace(/_/g, ' ')),
      h('dd', { key: `v-${k}` }, evidenceValue(v)),
    ]),
  );
}

function FindingsCard(props: { findings: IncidentFinding[] }): ComponentChildren {
  const [all, setAll] = useState(false);
  const shown = all ? props.findings : props.findings.slice(0, 8);
  return h(
    Card,
    { title: `${t('incident.findings')} (${props.findings.length})` },
    props.findings.length === 0
      ? h('p', { class: 'muted' }, t('state.empty'))
      : h(
          'div',
          { class: 'findings', 'data-testid': 'findings' },
          shown.map((f, i) =>
            h(
              'article',
              { class: 'finding', key: i },
              h(
                'header',
                null,
                h('span', { class: 'badge' }, f.detector),
                h('code', null, `${f.entity.type}:${f.entity.id}`),
                h('span', { class: 'muted small' }, `${when(f.window_start)} → ${when(f.window_end)}`),
                h('span', { class: 'score' }, `${t('col.score')} ${f.score}`),
              ),
              f.summary ? h('p', null, f.summary) : null,
              h(
                'details',
                { open: i < 2 },
                h('summary', null, t('incident.evidence')),
                h(Evidence, { evidence: f.evidence ?? {} }),
              ),
            ),
          ),
          shown.length < props.findings.length
            ? h(MoreButton, {
                shown: shown.length,
                total: props.findings.length,
                onClick: () => setAll(true),
              })
            : null,
        ),
  );
}

export function IncidentPage(props: { id: string; me: Principal }): ComponentChildren {
  const f = useApi<Incident>(`/api/incidents/${encodeURIComponent(props.id)}`);
  return h(
    'div',
    { class: 'page' },
    h('a', { href: '#/incidents', class: 'back' }, t('incident.back')),
    h(Async<Incident>, {
      f,
      children: (inc) =>
        h(
          'div',
          null,
          h(
            'div',
            { class: 'incident-head' },
            h(SeverityBadge, { severity: inc.severity }),
            h('h1', { 'data-testid': 'incident-title' }, inc.title),
            h('span', { class: `status st-${inc.status}` }, inc.status),
          ),
          h('p', { class: 'muted small' }, inc.id),
          h(
            'div',
            { class: 'stats' },
            h(Stat, { label: t('col.first_seen'), value: when(inc.first_seen) }),
            h(Stat, { label: t('col.detected_at'), value: when(inc.detected_at) }),
            h(Stat, { label: t('col.delay'), value: duration(delaySeconds(inc)) }),
            h(Stat, { label: t('col.last_seen'), value: when(inc.last_seen) }),
          ),
          h(TimelineCard, { id: inc.id }),
          h(ScopeCard, { incidentId: inc.id, me: props.me }),
          h(EntitiesCard, { id: inc.id }),
          h(FindingsCard, { findings: inc.findings ?? [] }),
        ),
    }),
  );
}
