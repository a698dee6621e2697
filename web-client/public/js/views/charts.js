// Small charts drawn as inline SVG: no library, no build step. Each chart is
// one <svg role="img"> whose aria-label is its text alternative; the numbers
// themselves are also shown as a table by the view that uses it.

const SVG_NS = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

function chart(width, height, label, className) {
  return svgEl('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': label,
    class: className,
    preserveAspectRatio: 'none',
    focusable: 'false',
  });
}

/**
 * A sparkline of `values` (nulls are gaps), with a dashed line at `target`
 * when given and a dot on the last known value.
 */
export function sparkline(values, { target = null, label, width = 160, height = 40 } = {}) {
  const svg = chart(width, height, label, 'sparkline');
  const known = values.filter((v) => typeof v === 'number');
  const all = target === null ? known : [...known, target];
  const max = Math.max(1, ...all);
  const min = Math.min(0, ...all);
  const pad = 4;
  const x = (i) => pad + (values.length > 1 ? (i * (width - 2 * pad)) / (values.length - 1) : (width - 2 * pad) / 2);
  const y = (v) => height - pad - ((v - min) * (height - 2 * pad)) / (max - min || 1);
  if (target !== null) {
    svg.append(svgEl('line', { x1: 0, x2: width, y1: y(target), y2: y(target), class: 'spark-target' }));
  }
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (typeof v !== 'number') {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  if (d) svg.append(svgEl('path', { d, class: 'spark-line', 'vector-effect': 'non-scaling-stroke' }));
  for (let i = values.length - 1; i >= 0; i -= 1) {
    if (typeof values[i] === 'number') {
      svg.append(svgEl('circle', { cx: x(i), cy: y(values[i]), r: 3, class: 'spark-dot' }));
      break;
    }
  }
  return svg;
}

/** A horizontal progress bar: `value` of `max`, with the share met filled. */
export function progressBar(value, max, { label, met = false, width = 240, height = 12 } = {}) {
  const svg = chart(width, height, label, `progress${met ? ' progress--met' : ''}`);
  const share = max > 0 && typeof value === 'number' ? Math.max(0, Math.min(1, value / max)) : 0;
  svg.append(svgEl('rect', { x: 0, y: 0, width, height, rx: height / 2, class: 'progress-track' }));
  if (share > 0) svg.append(svgEl('rect', { x: 0, y: 0, width: Math.max(height, share * width), height, rx: height / 2, class: 'progress-fill' }));
  return svg;
}

/**
 * Vertical bars, one per item ({label, value}); every `tickEvery`-th item
 * is labelled under its bar by `tickLabel(item)`. Each bar carries a <title>
 * (a tooltip for those who point at it).
 */
export function barChart(items, { label, height = 160, tickEvery = 1, tickLabel = (item) => item.label, titleOf = (item) => `${item.label}: ${item.value}` } = {}) {
  const axis = 18;
  const top = 8;
  const slot = Math.max(4, Math.min(28, Math.floor(720 / Math.max(1, items.length))));
  const width = Math.max(240, slot * items.length);
  const svg = chart(width, height, label, 'bar-chart');
  svg.setAttribute('preserveAspectRatio', 'xMinYMin meet');
  const max = Math.max(1, ...items.map((i) => i.value || 0));
  const plot = height - axis - top;
  svg.append(svgEl('line', { x1: 0, x2: width, y1: top + plot + 0.5, y2: top + plot + 0.5, class: 'bar-axis' }));
  items.forEach((item, i) => {
    const h = ((item.value || 0) / max) * plot;
    const gap = slot > 8 ? 3 : 1;
    const rect = svgEl('rect', { x: i * slot + gap / 2, y: top + plot - h, width: slot - gap, height: Math.max(h, item.value ? 1 : 0), class: 'bar-rect' });
    rect.append(svgEl('title'));
    rect.firstChild.textContent = titleOf(item);
    svg.append(rect);
    if (i % tickEvery === 0) {
      const text = svgEl('text', { x: i * slot + slot / 2, y: height - 4, class: 'bar-tick', 'text-anchor': i === 0 ? 'start' : 'middle' });
      if (i === 0) text.setAttribute('x', String(i * slot + 1));
      text.textContent = tickLabel(item);
      svg.append(text);
    }
  });
  return svg;
}

/** A single inline bar for a table cell: `value` of `max`, decorative (the cell holds the number). */
export function cellBar(value, max, { width = 120, height = 10, kind = '' } = {}) {
  const svg = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: `cell-bar${kind ? ` cell-bar--${kind}` : ''}`, 'aria-hidden': 'true', focusable: 'false' });
  const share = max > 0 && typeof value === 'number' ? Math.max(0, Math.min(1, value / max)) : 0;
  svg.append(svgEl('rect', { x: 0, y: 0, width, height, rx: 2, class: 'cell-bar-track' }));
  if (share > 0) svg.append(svgEl('rect', { x: 0, y: 0, width: Math.max(2, share * width), height, rx: 2, class: 'cell-bar-fill' }));
  return svg;
}
