// Small SVG charts drawn by hand: no chart library, nothing fetched from elsewhere.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

/** Readable time ticks between two epoch-ms instants. */
function timeTicks(from, to, count) {
  const steps = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);
  const step = steps.find((s) => (to - from) / s <= count) ?? steps[steps.length - 1];
  const ticks = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return { ticks, step };
}

function formatTime(t, step) {
  const d = new Date(t);
  const hm = d.toISOString().slice(11, 16);
  if (step >= 86400000) return d.toISOString().slice(5, 10);
  if (step < 60000) return d.toISOString().slice(11, 19);
  return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 ? d.toISOString().slice(5, 10) : hm;
}

function niceMax(x) {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= x);
}

/**
 * A multi-line time chart. `series`: [{ topic, color, points: [{ t (ms), value, title }] }].
 * `gapMs`: points further apart than this are not joined. Every point is a <circle data-topic data-t data-value> so that tests and readers can check it.
 */
export function lineChart(svg, { series, from, to, yMin, yMax, yTicks, yFormat, zeroLine, gapMs }) {
  svg.replaceChildren();
  const width = Math.max(300, svg.clientWidth || 800);
  const height = Math.max(160, svg.clientHeight || 260);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const m = { left: 48, right: 12, top: 10, bottom: 24 };
  const x = (t) => m.left + ((t - from) / Math.max(1, to - from)) * (width - m.left - m.right);
  const y = (v) => m.top + (1 - (v - yMin) / Math.max(1e-12, yMax - yMin)) * (height - m.top - m.bottom);
  const grid = el('g', { class: 'grid' }, svg);
  for (const v of yTicks) {
    el('line', { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }, grid);
    el('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, grid).textContent = yFormat(v);
  }
  const { ticks, step } = timeTicks(from, to, Math.max(2, Math.floor((width - m.left - m.right) / 90)));
  for (const t of ticks) {
    el('line', { x1: x(t), x2: x(t), y1: m.top, y2: height - m.bottom }, grid);
    el('text', { x: x(t), y: height - 6, 'text-anchor': 'middle' }, grid).textContent = formatTime(t, step);
  }
  if (zeroLine) el('line', { class: 'zero', x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }, svg);
  if (series.every((s) => s.points.length === 0)) {
    el('text', { class: 'empty', x: width / 2, y: height / 2, 'text-anchor': 'middle' }, svg).textContent = 'no posts stored in this window';
    return;
  }
  for (const s of series) {
    const g = el('g', { 'data-topic': s.topic }, svg);
    // A bucket without posts breaks the line rather than drawing a slope through it.
    const d = s.points.map((p, i) => `${i === 0 || (gapMs && p.t - s.points[i - 1].t > gapMs) ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}`).join('');
    if (s.points.length > 1) el('path', { class: 'line', d, stroke: s.color, 'data-topic': s.topic }, g);
    for (const p of s.points) {
      const c = el('circle', { cx: x(p.t).toFixed(1), cy: y(p.value).toFixed(1), r: 2.5, fill: s.color, 'data-topic': s.topic, 'data-t': new Date(p.t).toISOString(), 'data-value': p.value }, g);
      el('title', {}, c).textContent = p.title;
    }
  }
}

export { niceMax };
