// Colours the canvas charts need in JS (canvas cannot read CSS variables cheaply); kept in step
// with the variables in app.css.
export const CHART_THEME = {
  axis: '#8b94a3',
  grid: 'rgba(255, 255, 255, 0.07)',
  font: '11px system-ui, -apple-system, "Segoe UI", sans-serif',
} as const;

/** Series colours: G warm, D cool, as in most GAN write-ups. */
export const SERIES_COLORS = {
  g: '#f0a04b',
  d: '#5aa9e6',
  real: '#7bc47f',
  fake: '#e57a9a',
  perf: '#b39ddb',
} as const;

/** One line of a chart: which scalar tag, its legend label and colour. */
export interface ChartSeries {
  tag: string;
  label: string;
  color: string;
}
