// Small SVG charts drawn by hand: no chart library, nothing fetched from elsewhere.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

const titled = (node, text) => {
  el('title', {}, node).textContent = text;
  return node;
};

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

/** A shift's marker: a triangle pointing its way, filled for a change of the mean, hollow for one of volume. */
function shiftMarker(g, shift, x, top, color) {
  const s = 6;
  const up = shift.direction === 'up';
  const d = up ? `M${x},${top}l${s},${2 * s}h${-2 * s}z` : `M${x},${top + 2 * s}l${s},${-2 * s}h${-2 * s}z`;
  el('path', { class: `glyph ${shift.kind}`, d, stroke: color, fill: shift.kind === 'mean' ? color : '#fff' }, g);
}

/**
 * A time chart over [from, to). `series`: [{ topic, color, points: [{ t (ms, bucket start), value,
 * title, band: [lo, hi] | null, faded }] }]; each point is drawn at its bucket's middle.
 * - Every point is a <circle class="point" data-topic data-t data-value>, with class too-few when
 *   `faded`; points further apart than 1.5 buckets are not joined; a segment touching a faded point is dashed.
 * - `bands`: each point's interval as a <rect class="band" data-topic data-t data-lo data-hi> over its bucket.
 * - `coverage`: [{ t (ms), fraction }]; a bucket the stream covered less than fully is a
 *   <rect class="gap" data-t data-fraction> behind the data, darker the less it covered (null = unknown: nothing).
 * - `shifts`: [{ topic, kind, direction, at (ms), title, ... }]: a <g class="shift"> marker each,
 *   calling `onShift(shift)` when clicked (or Enter).
 */
export function timeChart(svg, { series, from, to, bucketMs, yMin, yMax, yTicks, yFormat, zeroLine, bands, coverage = [], shifts = [], onShift, compact, emptyText }) {
  svg.replaceChildren();
  const width = Math.max(compact ? 200 : 300, svg.clientWidth || 800);
  const height = Math.max(compact ? 100 : 160, svg.clientHeight || (compact ? 150 : 260));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const m = compact ? { left: 34, right: 8, top: 16, bottom: 20 } : { left: 48, right: 12, top: 16, bottom: 24 };
  const x = (t) => m.left + ((t - from) / Math.max(1, to - from)) * (width - m.left - m.right);
  const y = (v) => m.top + (1 - (v - yMin) / Math.max(1e-12, yMax - yMin)) * (height - m.top - m.bottom);
  const mid = (t) => x(t + bucketMs / 2);
  const grid = el('g', { class: 'grid' }, svg);
  for (const v of yTicks) {
    el('line', { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }, grid);
    el('text', { x: m.left - 5, y: y(v) + 4, 'text-anchor': 'end' }, grid).textContent = yFormat(v);
  }
  const { ticks, step } = timeTicks(from, to, Math.max(2, Math.floor((width - m.left - m.right) / (compact ? 70 : 90))));
  for (const t of ticks) {
    el('line', { x1: x(t), x2: x(t), y1: m.top, y2: height - m.bottom }, grid);
    // A label at either edge is anchored inside the chart rather than cut off.
    const anchor = x(t) > width - m.right - 16 ? 'end' : x(t) < m.left + 16 ? 'start' : 'middle';
    el('text', { x: x(t), y: height - 6, 'text-anchor': anchor }, grid).textContent = formatTime(t, step);
  }
  const gaps = el('g', { class: 'gaps' }, svg);
  for (const c of coverage) {
    if (c.fraction === null || c.fraction === undefined || !(c.fraction < 1) || c.t < from || c.t >= to) continue;
    const missing = Math.min(1, Math.max(0, 1 - c.fraction));
    const rect = el('rect', {
      class: 'gap', x: x(c.t).toFixed(1), y: m.top, width: Math.max(1, x(c.t + bucketMs) - x(c.t)).toFixed(1), height: height - m.top - m.bottom,
      'fill-opacity': (0.12 + 0.4 * missing).toFixed(2), 'data-t': new Date(c.t).toISOString(), 'data-fraction': c.fraction,
    }, gaps);
    titled(rect, `stream gap: connected ${Math.round(c.fraction * 100)} % of the bucket from ${new Date(c.t).toISOString().slice(11, 19)} UTC`);
  }
  if (zeroLine) el('line', { class: 'zero', x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }, svg);
  if (series.every((s) => s.points.length === 0)) {
    el('text', { class: 'empty', x: width / 2, y: height / 2, 'text-anchor': 'middle' }, svg).textContent = emptyText ?? 'no posts stored in this window';
    return;
  }
  const gapMs = bucketMs * 1.5;
  for (const s of series) {
    const g = el('g', { class: 'series', 'data-topic': s.topic }, svg);
    if (bands)
      for (const p of s.points) {
        if (!p.band) continue;
        const [lo, hi] = p.band;
        const rect = el('rect', {
          class: `band${p.faded ? ' too-few' : ''}`, x: x(p.t).toFixed(1), y: y(hi).toFixed(1),
          width: Math.max(1, x(p.t + bucketMs) - x(p.t)).toFixed(1), height: Math.max(1, y(lo) - y(hi)).toFixed(1),
          fill: s.color, 'data-topic': s.topic, 'data-t': new Date(p.t).toISOString(), 'data-lo': lo, 'data-hi': hi,
        }, g);
        titled(rect, `${p.title}\n95 % interval ${lo.toFixed(3)} … ${hi.toFixed(3)}`);
      }
    // A bucket without posts breaks the line rather than drawing a slope through it; a segment to or
    // from a bucket of too few posts is dashed and faint.
    let solid = '';
    let faint = '';
    s.points.forEach((p, i) => {
      const prev = s.points[i - 1];
      if (!prev || p.t - prev.t > gapMs) return;
      const seg = `M${mid(prev.t).toFixed(1)},${y(prev.value).toFixed(1)}L${mid(p.t).toFixed(1)},${y(p.value).toFixed(1)}`;
      if (prev.faded || p.faded) faint += seg;
      else solid += seg;
    });
    if (solid) el('path', { class: 'line', d: solid, stroke: s.color, 'data-topic': s.topic }, g);
    if (faint) el('path', { class: 'line too-few', d: faint, stroke: s.color, 'data-topic': s.topic }, g);
    for (const p of s.points) {
      const c = el('circle', {
        class: `point${p.faded ? ' too-few' : ''}`, cx: mid(p.t).toFixed(1), cy: y(p.value).toFixed(1), r: compact ? 2.2 : 2.5,
        fill: p.faded ? '#fff' : s.color, stroke: s.color, 'data-topic': s.topic, 'data-t': new Date(p.t).toISOString(), 'data-value': p.value,
      }, g);
      titled(c, p.title);
    }
  }
  const markers = el('g', { class: 'shifts' }, svg);
  for (const shift of shifts) {
    if (!(shift.at >= from && shift.at <= to)) continue;
    const sx = x(shift.at);
    const g = el('g', {
      class: `shift ${shift.kind} ${shift.direction}`, tabindex: 0, role: 'button',
      'data-topic': shift.topic, 'data-kind': shift.kind, 'data-direction': shift.direction, 'data-at': new Date(shift.at).toISOString(),
    }, markers);
    el('line', { class: 'rule', x1: sx, x2: sx, y1: m.top, y2: height - m.bottom, stroke: shift.color }, g);
    shiftMarker(g, shift, sx, 2, shift.color);
    // A wider, invisible target: the marker is small.
    el('rect', { class: 'hit', x: sx - 7, y: 0, width: 14, height: height - m.bottom }, g);
    titled(g, shift.title);
    if (onShift) {
      g.addEventListener('click', () => onShift(shift));
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onShift(shift);
        }
      });
    }
  }
}

export { niceMax };
