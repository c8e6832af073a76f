import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { type ComponentChildren, h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

// Only the pieces the console draws, so the bundle stays a fraction of full ECharts.
echarts.use([
  BarChart,
  LineChart,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export type ChartOption = echarts.EChartsCoreOption;

/** An ECharts canvas that follows its option and the window size, and is disposed with the view. */
export function Chart(props: { option: ChartOption; height?: number; testid?: string }): ComponentChildren {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current, undefined, { renderer: 'canvas' });
    chart.current = c;
    const onResize = () => c.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      c.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(props.option, true);
  }, [props.option]);
  return h('div', {
    ref: el,
    class: 'chart',
    style: { height: `${props.height ?? 280}px` },
    'data-testid': props.testid,
  });
}

export const PALETTE = {
  attack: '#d6453d',
  subjects: '#7a4fd6',
  normal: '#8a94a6',
  bar: '#3b6fd8',
  bar2: '#2c9c8a',
};

/** Horizontal bars for a name → count map, largest first. */
export function barsOption(entries: [string, number][], color = PALETTE.bar): ChartOption {
  const sorted = [...entries].sort((a, b) => a[1] - b[1]);
  return {
    animation: false,
    grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', axisLabel: { show: false }, splitLine: { show: false } },
    yAxis: { type: 'category', data: sorted.map((e) => e[0]), axisTick: { show: false } },
    series: [
      {
        type: 'bar',
        data: sorted.map((e) => e[1]),
        itemStyle: { color, borderRadius: [0, 3, 3, 0] },
        label: {
          show: true,
          position: 'right',
          formatter: (p: { value: number }) => p.value.toLocaleString(),
        },
        barMaxWidth: 22,
      },
    ],
  };
}
