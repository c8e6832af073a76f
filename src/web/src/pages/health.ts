import { type ComponentChildren, h } from 'preact';
import { useEffect, useMemo } from 'preact/hooks';
import type { DataHealth } from '../../../server/health.ts';
import { barsOption, Chart, type ChartOption, PALETTE } from '../chart.ts';
import { num, t } from '../i18n.ts';
import { Async, Card, duration, Stat, Table, useApi, when } from '../ui.ts';

function perMinuteOption(d: DataHealth): ChartOption {
  return {
    animation: false,
    grid: { left: 56, right: 16, top: 16, bottom: 28 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: d.per_minute.map((m) => m.minute.slice(11, 16)) },
    yAxis: { type: 'value' },
    series: [
      {
        type: 'bar',
        name: t('col.stored'),
        data: d.per_minute.map((m) => m.stored),
        itemStyle: { color: PALETTE.bar },
      },
      {
        type: 'bar',
        name: t('col.quarantined'),
        data: d.per_minute.map((m) => m.quarantined),
        itemStyle: { color: PALETTE.attack },
      },
    ],
  };
}

export function HealthPage(): ComponentChildren {
  const f = useApi<DataHealth>('/api/health');
  // Live figures: refresh every 10 s while the page is open.
  useEffect(() => {
    const timer = setInterval(f.reload, 10_000);
    return () => clearInterval(timer);
  }, [f.reload]);
  const option = useMemo(() => (f.data ? perMinuteOption(f.data) : null), [f.data]);
  return h(
    'div',
    { class: 'page' },
    h('h1', null, t('health.title')),
    h(Async<DataHealth>, {
      f,
      children: (d) => [
        h(
          'div',
          { class: 'stats', key: 'stats' },
          h(Stat, { label: t('health.events'), value: num(d.events.total), testid: 'health-events' }),
          h(Stat, { label: t('health.rate'), value: `${num(d.rate_per_s)}/s` }),
          h(Stat, { label: t('health.rate_live'), value: `${num(d.live.rate_per_s)}/s` }),
          h(Stat, { label: t('health.watermark'), value: when(d.events.newest) }),
          h(Stat, {
            label: t('health.lag'),
            value: t('health.lag.value', { v: duration(d.event_lag_seconds) }),
          }),
          h(Stat, {
            label: t('health.window'),
            value: when(d.detection.last_window_end),
            testid: 'health-window',
          }),
          h(Stat, {
            label: t('health.detect_lag'),
            value: t('health.detect_lag.value', { n: d.detection.lag_windows }),
            tone: d.detection.lag_windows > 1 ? 'warn' : '',
          }),
          h(Stat, { label: t('health.pending'), value: num(d.live.pending) }),
        ),
        d.detection.error
          ? h(
              'div',
              { class: 'state error', key: 'derr', role: 'alert' },
              h('strong', null, t('health.detection_error')),
              d.detection.error,
            )
          : null,
        h(
          Card,
          { title: t('health.per_minute'), key: 'pm' },
          d.per_minute.length && option
            ? h(Chart, { option, height: 220 })
            : h('p', { class: 'muted' }, t('state.empty')),
        ),
        h(
          'div',
          { class: 'two-col', key: 'two' },
          h(
            Card,
            { title: `${t('health.quarantine')} (${num(d.quarantine.total)})` },
            Object.keys(d.quarantine.by_reason).length
              ? h(Chart, {
                  option: barsOption(Object.entries(d.quarantine.by_reason), PALETTE.attack),
                  height: 40 + Object.keys(d.quarantine.by_reason).length * 30,
                })
              : null,
            h(Table<[string, number]>, {
              rows: Object.entries(d.quarantine.by_reason),
              testid: 'quarantine',
              empty: t('common.none'),
              columns: [
                { key: 'col.reason', cell: (r) => h('code', null, r[0]) },
                { key: 'col.events', cell: (r) => num(r[1]), class: 'num' },
              ],
            }),
          ),
          h(
            Card,
            { title: t('health.recent') },
            h(Table<DataHealth['recent_ingests'][number]>, {
              rows: d.recent_ingests,
              columns: [
                { key: 'col.at', cell: (r) => when(r.at), class: 'nowrap' },
                { key: 'col.source', cell: (r) => h('code', null, r.source) },
                { key: 'col.read', cell: (r) => num(r.read), class: 'num' },
                { key: 'col.stored', cell: (r) => num(r.stored), class: 'num' },
                { key: 'col.quarantined', cell: (r) => num(r.quarantined), class: 'num' },
                { key: 'col.duplicates', cell: (r) => num(r.duplicates), class: 'num' },
                { key: 'col.seconds', cell: (r) => r.seconds.toFixed(2), class: 'num' },
              ],
            }),
          ),
        ),
      ],
    }),
  );
}
