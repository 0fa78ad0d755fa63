// The dashboard page: polls the JSON API and redraws. Plain ES module, no framework.
import { niceMax, timeChart } from './charts.js';

const API = '/dashboard/api/';
const PALETTE = ['#3b6fd8', '#e07b39', '#2f9e5b', '#b54bc6', '#d64545', '#1ba3a3', '#8a6d3b', '#6b7383', '#c4a000', '#5a3fc0'];
const colors = new Map();
const colorOf = (topic) => {
  if (!colors.has(topic)) colors.set(topic, PALETTE[colors.size % PALETTE.length]);
  return colors.get(topic);
};
const $ = (id) => document.getElementById(id);
const pct = (x) => `${(x * 100).toFixed(1)}%`;
const num = (x) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(x >= 10 ? 1 : 2));
const text = (tag, content, cls) => {
  const node = document.createElement(tag);
  node.textContent = content;
  if (cls) node.className = cls;
  return node;
};

async function getJson(name, params = {}) {
  const query = new URLSearchParams(params).toString();
  const res = await fetch(`${API}${name}${query ? `?${query}` : ''}`, { cache: 'no-store' });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

function widthLabel(seconds) {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

const FULL_TIME = (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const ci = (pair) => (pair ? `[${pair[0].toFixed(3)}, ${pair[1].toFixed(3)}]` : '(no interval)');
const isPostId = (id) => typeof id === 'string' && /^\d{1,20}$/.test(id);

/** A point as the charts take it: bucket start, value, the mean's interval, faded when too few posts. */
function chartPoint(s, p, value, bucketMs) {
  const t = Date.parse(p.t);
  const few = Boolean(p.tooFewPosts);
  const opinions = p.opinions !== undefined && p.opinions !== p.count ? ` (${p.opinions} opinions)` : '';
  const lines = [
    `${s.topic} · ${FULL_TIME(t)} – ${FULL_TIME(t + bucketMs).slice(11)} UTC`,
    `mean ${p.meanScore.toFixed(3)} ${p.meanScoreCi95 ? `95 % interval ${ci(p.meanScoreCi95)}` : '(no interval: under 2 opinions)'}`,
    `${p.count} posts${opinions}${few ? ' · too few posts for a reliable mean' : ''}`,
  ];
  return { t, value, band: p.meanScoreCi95 ?? null, faded: few, title: lines.join('\n') };
}

function sideText(side) {
  if (!side) return '?';
  return `mean ${side.meanScore.toFixed(3)} ${ci(side.meanScoreCi95)}, n ${side.n.toLocaleString('en')}, ${num(side.postsPerMinute)} posts/min`;
}

const volumeText = (ratio) => (ratio === null || ratio === undefined || !Number.isFinite(ratio) ? 'from none before' : `×${num(ratio)}`);
const shiftAt = (s) => Date.parse(s.changeAt ?? s.detectedAt);

function shiftTitle(s) {
  const what = s.kind === 'volume' ? 'volume' : 'mean score';
  return [
    `${s.topic}: ${what} ${s.direction === 'up' ? 'up' : 'down'} from ${FULL_TIME(shiftAt(s))} UTC (detected ${s.detectedAt ? FULL_TIME(Date.parse(s.detectedAt)).slice(11) : '?'})`,
    `before: ${sideText(s.before)}`,
    `after: ${sideText(s.after)}`,
    `volume ${volumeText(s.volumeChange)}`,
    `posts: ${(s.postIds ?? []).join(', ') || 'none listed'}`,
  ].join('\n');
}

const shiftKey = (s) => `${s.topic}|${s.kind}|${s.direction}|${s.changeAt ?? s.detectedAt}`;
let selectedShift;

function postLinks(ids) {
  const box = document.createElement('span');
  box.className = 'post-ids';
  for (const id of ids ?? []) {
    if (!isPostId(id)) continue;
    const a = text('a', id);
    a.href = `https://x.com/i/web/status/${id}`;
    a.rel = 'noopener noreferrer';
    a.target = '_blank';
    box.append(a, ' ');
  }
  if (!box.childNodes.length) box.append(text('span', 'none listed', 'muted'));
  return box;
}

/** The clicked shift, in words under the charts: before → after, volume change and the posts that moved it. */
function showShift(s) {
  selectedShift = s ? shiftKey(s) : undefined;
  const box = $('shift-details');
  for (const row of $('shifts').querySelectorAll('tr[data-key]')) row.classList.toggle('selected', row.dataset.key === selectedShift);
  if (!s) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const dl = document.createElement('dl');
  dl.className = 'kv';
  const add = (key, value) => {
    const dd = document.createElement('dd');
    dd.append(value);
    dl.append(text('dt', key), dd);
  };
  add('change at', `${FULL_TIME(shiftAt(s))} UTC${s.detectedAt ? ` (detected ${FULL_TIME(Date.parse(s.detectedAt))} UTC)` : ''}`);
  add('before', sideText(s.before));
  add('after', sideText(s.after));
  add('volume', volumeText(s.volumeChange));
  add('posts', postLinks(s.postIds));
  const close = text('button', 'close');
  close.type = 'button';
  close.addEventListener('click', () => showShift(undefined));
  const heading = text('strong', `${s.topic}: ${s.kind === 'volume' ? 'volume' : 'mean score'} ${s.direction === 'up' ? '▲ up' : '▼ down'}`);
  box.dataset.topic = s.topic;
  box.dataset.kind = s.kind;
  box.replaceChildren(heading, close, dl);
  box.hidden = false;
}

function drawShifts(shifts) {
  const box = $('shifts');
  if (!Array.isArray(shifts)) {
    box.className = 'muted';
    box.textContent = 'This server reports no shift detection.';
    return;
  }
  if (shifts.length === 0) {
    box.className = 'muted';
    box.textContent = 'No shifts detected in this window.';
    return;
  }
  box.className = '';
  const table = document.createElement('table');
  table.className = 'shift-table';
  const head = document.createElement('tr');
  for (const h of ['topic', 'change', 'from (UTC)', 'before', 'after', 'volume', 'posts']) head.append(text('th', h));
  table.createTHead().append(head);
  const body = table.createTBody();
  for (const s of shifts) {
    const row = document.createElement('tr');
    row.dataset.key = shiftKey(s);
    row.dataset.topic = s.topic;
    row.dataset.kind = s.kind;
    row.classList.toggle('selected', row.dataset.key === selectedShift);
    const ids = document.createElement('td');
    ids.append(postLinks(s.postIds));
    row.append(
      text('td', s.topic),
      text('td', `${s.kind === 'volume' ? 'volume' : 'mean'} ${s.direction === 'up' ? '▲ up' : '▼ down'}`),
      text('td', FULL_TIME(shiftAt(s))),
      text('td', sideText(s.before)),
      text('td', sideText(s.after)),
      text('td', volumeText(s.volumeChange), 'num'),
      ids,
    );
    row.addEventListener('click', (e) => e.target.tagName !== 'A' && showShift(s));
    body.append(row);
  }
  box.replaceChildren(table);
}

let lastDrawn;
/** Draws one sentiment view; `asked` is what it was asked for with (the filters, the chart mode). */
function drawSentiment(view, asked) {
  lastDrawn = { view, asked };
  const from = view.from ? Date.parse(view.from) : Date.now() - 3600e3;
  const to = view.to ? Date.parse(view.to) : Date.now();
  const bucketMs = (view.bucketSeconds || 60) * 1000;
  const coverage = Array.isArray(view.coverage) ? view.coverage.map((c) => ({ t: Date.parse(c.t), fraction: c.fraction })) : [];
  // Markers for the charted topics (every shift is listed in the shifts table).
  const charted = new Set(view.series.map((s) => s.topic));
  const shifts = Array.isArray(view.shifts)
    ? view.shifts.filter((s) => charted.has(s.topic)).map((s) => ({ ...s, at: shiftAt(s), color: colorOf(s.topic), title: shiftTitle(s) }))
    : [];
  const scoreSeries = view.series.map((s) => ({
    topic: s.topic,
    color: colorOf(s.topic),
    points: s.points.map((p) => chartPoint(s, p, p.meanScore, bucketMs)),
  }));
  const scoreAxis = { yMin: -1, yMax: 1, yTicks: [-1, -0.5, 0, 0.5, 1], yFormat: (v) => v.toFixed(1), zeroLine: true };
  const scoreChart = $('score-chart');
  Object.assign(scoreChart.dataset, {
    from: view.from ?? '',
    to: view.to ?? '',
    bucketSeconds: String(view.bucketSeconds),
    mode: asked.charts,
    langs: asked.langs ?? '',
    amplification: asked.amplification,
    authorCap: asked.authorCap ?? '',
  });
  const multiples = $('multiples');
  const combined = asked.charts === 'combined';
  scoreChart.toggleAttribute('hidden', !combined);
  multiples.hidden = combined;
  if (combined) {
    multiples.replaceChildren();
    timeChart(scoreChart, {
      ...scoreAxis,
      series: scoreSeries,
      from,
      to,
      bucketMs,
      coverage,
      shifts: shifts.filter((s) => s.kind === 'mean'),
      onShift: showShift,
    });
  } else {
    scoreChart.replaceChildren();
    const summaryOf = new Map(view.summaries.map((t) => [t.topic, t]));
    const figures = scoreSeries.map((s) => {
      const figure = document.createElement('figure');
      figure.className = 'multiple';
      figure.dataset.topic = s.topic;
      const caption = document.createElement('figcaption');
      const name = text('span', s.topic, 'topic');
      name.style.setProperty('--c', s.color);
      caption.append(name);
      const t = summaryOf.get(s.topic);
      if (t) {
        const few = t.tooFewPosts ? ' · too few posts' : '';
        const left = t.leftOut > 0 ? ` · ${t.leftOut.toLocaleString('en')} left out (unsupported languages)` : '';
        caption.append(
          text(
            'span',
            ` mean ${t.meanScore.toFixed(3)} ${t.meanScoreCi95 ? ci(t.meanScoreCi95) : ''} · ${t.count.toLocaleString('en')} posts${few}${left}`,
            'muted',
          ),
        );
      }
      const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      svg.setAttribute('class', 'chart small');
      svg.setAttribute('role', 'img');
      svg.setAttribute('aria-label', `mean sentiment score of ${s.topic} over time, with its 95 % interval`);
      figure.append(caption, svg);
      return figure;
    });
    if (figures.length === 0) figures.push(text('p', 'no posts stored in this window', 'muted empty'));
    multiples.replaceChildren(...figures);
    scoreSeries.forEach((s, i) => {
      timeChart(figures[i].querySelector('svg'), {
        ...scoreAxis,
        series: [s],
        from,
        to,
        bucketMs,
        bands: true,
        compact: true,
        coverage,
        shifts: shifts.filter((x) => x.topic === s.topic),
        onShift: showShift,
      });
    });
  }
  const maxCount = niceMax(Math.max(0, ...view.series.flatMap((s) => s.points.map((p) => p.count))));
  timeChart($('volume-chart'), {
    series: view.series.map((s) => ({
      topic: s.topic,
      color: colorOf(s.topic),
      points: s.points.map((p) => ({ t: Date.parse(p.t), value: p.count, title: `${s.topic} · ${FULL_TIME(Date.parse(p.t))} UTC\n${p.count} posts` })),
    })),
    from,
    to,
    bucketMs,
    coverage,
    shifts: shifts.filter((s) => s.kind === 'volume'),
    onShift: showShift,
    yMin: 0,
    yMax: maxCount,
    yTicks: [0, maxCount / 4, maxCount / 2, (3 * maxCount) / 4, maxCount],
    yFormat: (v) => num(v),
  });
  $('volume-unit').textContent = view.bucketSeconds ? `(posts per ${widthLabel(view.bucketSeconds)})` : '';
  $('key-too-few').textContent = `too few posts${view.minPosts ? ` (under ${view.minPosts} opinions)` : ''}: hollow, faint, dashed`;
  $('legend').replaceChildren(
    ...view.series.map((s) => {
      const item = text('span', s.topic);
      item.style.setProperty('--c', colorOf(s.topic));
      return item;
    }),
  );
  const rows = view.summaries.map((t) => {
    const row = document.createElement('tr');
    row.dataset.topic = t.topic;
    row.dataset.count = String(t.count);
    if (t.tooFewPosts) {
      row.classList.add('too-few');
      row.title = 'too few posts for a reliable mean';
    }
    const mean = text('td', t.meanScore.toFixed(3), 'num');
    if (t.meanScoreCi95) mean.append(text('span', ` ${ci(t.meanScoreCi95)}`, 'muted ci'));
    row.dataset.leftOut = String(t.leftOut ?? 0);
    const left = text('td', (t.leftOut ?? 0).toLocaleString('en'), 'num');
    left.title = 'posts in languages the model does not support, left out of these figures (?unsupportedLanguages=include counts them)';
    row.append(text('td', t.topic), text('td', t.count.toLocaleString('en'), 'num'), left, mean);
    const bar = document.createElement('div');
    bar.className = 'bar';
    for (const label of ['negative', 'neutral', 'positive']) {
      const part = document.createElement('div');
      part.className = label;
      part.style.width = pct(t.shares[label]);
      part.title = `${label} ${pct(t.shares[label])}`;
      part.dataset.share = String(t.shares[label]);
      bar.append(part);
    }
    const cell = document.createElement('td');
    cell.append(bar);
    row.append(cell);
    return row;
  });
  $('shares').tBodies[0].replaceChildren(...rows);
  drawShifts(view.shifts);
  if (selectedShift) showShift((view.shifts ?? []).find((s) => shiftKey(s) === selectedShift));
}

// Throughput is the change of the posts counters between two polls.
let previousHealth;
function drawHealth(h) {
  const box = document.createElement('dl');
  box.className = 'kv';
  const add = (key, value, cls) => {
    box.append(text('dt', key));
    const dd = typeof value === 'string' ? text('dd', value, cls) : value;
    if (typeof value !== 'string') dd.className = cls ?? '';
    box.append(dd);
    return dd;
  };
  const seconds = previousHealth ? (Date.parse(h.at) - Date.parse(previousHealth.at)) / 1000 : 0;
  for (const p of h.posts.filter((p) => p.direction === 'out')) {
    const before = previousHealth?.posts.find((q) => q.stage === p.stage && q.direction === p.direction);
    const rate = before && seconds > 0 ? Math.max(0, p.total - before.total) / seconds : null;
    const dd = add(`${p.stage} out`, `${rate === null ? '…' : `${num(rate)} posts/s`} · ${p.total.toLocaleString('en')} total`);
    dd.dataset.stage = p.stage;
    dd.dataset.total = String(p.total);
  }
  if (h.posts.length === 0) add('throughput', 'no pipeline in the processes read', 'muted');
  const dead = h.deadLetters.reduce((a, d) => a + d.total, 0);
  add(
    'dead letters',
    `${dead.toLocaleString('en')}${dead ? ` (${h.deadLetters.map((d) => `${d.stage}/${d.code} ${d.total}`).join(', ')})` : ''}`,
    dead ? 'bad' : '',
  );
  for (const q of h.queues) {
    const dd = document.createElement('dd');
    const fill = q.capacity ? q.depth / q.capacity : 0;
    dd.append(text('span', `${q.depth}${q.capacity ? ` / ${q.capacity}` : ''}`));
    const meter = document.createElement('div');
    meter.className = 'meter';
    const inner = document.createElement('div');
    inner.style.width = pct(Math.min(1, fill));
    meter.append(inner);
    dd.append(meter);
    add(`queue ${q.queue}`, dd);
  }
  if (h.consumerLag === null) add('consumer lag', 'no Kafka consumer here', 'muted');
  else for (const l of h.consumerLag) add(`lag ${l.group}/${l.topic}`, `${l.messages.toLocaleString('en')} messages`, l.messages > 10000 ? 'bad' : '');
  if (h.budget === null) add('X budget', 'no governor here (replay or Kafka source)', 'muted');
  else {
    const b = h.budget;
    add(
      'X budget',
      `${b.consumedPosts.toLocaleString('en')} of ${b.capPosts.toLocaleString('en')} posts used · ${b.remainingPosts.toLocaleString('en')} left${b.periodEnd ? ` until ${b.periodEnd.slice(0, 10)}` : ''}`,
      b.remainingPosts <= 0 ? 'bad' : '',
    );
    if (b.headroomPosts !== null)
      add(
        'budget headroom',
        `${b.headroomPosts.toLocaleString('en')} posts${b.headroomPosts < 0 ? ' (stream paused)' : ''}`,
        b.headroomPosts < 0 ? 'bad' : 'good',
      );
  }
  if (h.stream !== null) add('X stream', h.stream.connected ? 'connected' : 'disconnected', h.stream.connected ? 'good' : 'bad');
  for (const s of h.sources.filter((s) => !s.ok)) add('unreachable', `${s.name}: ${s.error}`, 'bad');
  $('health').replaceChildren(box);
  previousHealth = h;
}

function drawRules(r) {
  const box = $('rules');
  if (!r.available) {
    box.textContent = 'Rules are not known to this process (pass --rules FILE to `crowdpulse dashboard`).';
    return;
  }
  box.className = '';
  const table = document.createElement('table');
  table.append(document.createElement('thead'), document.createElement('tbody'));
  table.tHead.append(Object.assign(document.createElement('tr'), {}));
  table.tHead.rows[0].append(text('th', 'tag'), text('th', 'rule'));
  for (const rule of r.rules) {
    const row = document.createElement('tr');
    const code = text('code', rule.value);
    const cell = document.createElement('td');
    cell.append(code);
    row.append(text('td', rule.tag ?? '—'), cell);
    table.tBodies[0].append(row);
  }
  box.replaceChildren(r.rules.length ? table : text('span', 'no rules', 'muted'));
}

/**
 * What the page asks the API for: the window, languages, amplification and chart mode from the
 * controls (which start from the page's URL: ?window=&langs=&amplification=&charts=), and at=,
 * authorCap= and unsupportedLanguages= from the URL alone (see README).
 */
function asked() {
  const own = new URLSearchParams(location.search);
  const langs = $('langs')
    .value.split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l.toLowerCase() !== 'all')
    .join(',');
  return {
    window: $('window').value,
    amplification: $('amplification').value,
    charts: $('charts').value,
    ...(langs ? { langs } : {}),
    ...(own.get('at') ? { at: own.get('at') } : {}),
    ...(own.get('authorCap') ? { authorCap: own.get('authorCap') } : {}),
    ...(own.get('unsupportedLanguages') ? { unsupportedLanguages: own.get('unsupportedLanguages') } : {}),
  };
}

/** The controls' state in the page's URL, so that a reload or a shared link shows the same. */
function keepInUrl() {
  const own = new URLSearchParams(location.search);
  const a = asked();
  const set = (name, value, fallback) => (value && value !== fallback ? own.set(name, value) : own.delete(name));
  set('window', a.window, '3600');
  set('langs', a.langs, '');
  set('amplification', a.amplification, 'weighted');
  set('charts', a.charts, 'multiples');
  const query = own.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}`);
}

/** A control set from the URL: a value the list lacks is added to it (an odd window, a future mode). */
function setControl(id, value) {
  if (!value) return;
  const control = $(id);
  if (control.tagName === 'SELECT' && ![...control.options].some((o) => o.value === value))
    control.append(new Option(id === 'window' ? `${value} s` : value, value));
  control.value = value;
}

let refreshSeconds = 5;
const STREAM_WORDS = {
  connected: 'connected',
  disconnected: 'disconnected, reconnecting',
  paused: 'paused by the post budget',
  capped: "out of X's usage cap",
  stopped: 'stopped',
};

/** The stream's state as ingest last recorded it; a spent usage cap says when it resets. */
function drawStreamState(stream) {
  const el = $('stream-state');
  if (!stream || typeof stream.state !== 'string') {
    el.textContent = '';
    delete el.dataset.state;
    return;
  }
  const since = String(stream.since ?? '')
    .replace('T', ' ')
    .slice(0, 16);
  const until = stream.state === 'capped' && stream.until ? ` until ${String(stream.until).replace('T', ' ').slice(0, 16)} UTC (the cap resets)` : '';
  el.textContent = `· stream ${STREAM_WORDS[stream.state] ?? stream.state}${until} · since ${since} UTC`;
  el.title = stream.detail ?? '';
  el.dataset.state = stream.state;
  el.className = stream.state === 'connected' ? 'muted' : 'bad';
}

let timer;
// Each refresh supersedes the ones before it: an older answer arriving late is not drawn.
let generation = 0;
async function refresh() {
  clearTimeout(timer);
  const mine = ++generation;
  const status = $('status');
  const request = asked();
  const { charts, ...params } = request;
  try {
    const [view, health] = await Promise.all([getJson('sentiment', params), getJson('health')]);
    if (mine !== generation) return;
    drawSentiment(view, request);
    drawHealth(health);
    drawStreamState(view.stream);
    const until = view.dataEnd ? `newest post ${view.dataEnd.replace('T', ' ').slice(0, 19)} UTC` : 'no posts stored yet';
    status.textContent = `updated ${new Date().toLocaleTimeString('en-GB')} · ${until} · refresh every ${refreshSeconds} s`;
    status.className = 'muted';
    document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
  } catch (e) {
    if (mine !== generation) return;
    status.textContent = `cannot load: ${e.message} (retrying)`;
    status.className = 'bad';
  }
  timer = setTimeout(refresh, refreshSeconds * 1000);
}

async function start() {
  try {
    const config = await getJson('config');
    refreshSeconds = Number(new URLSearchParams(location.search).get('refresh')) || config.refreshSeconds;
    $('title').textContent = config.title;
    document.title = config.title;
    drawRules(await getJson('rules'));
  } catch (e) {
    $('rules').textContent = `cannot load rules: ${e.message}`;
  }
  const own = new URLSearchParams(location.search);
  setControl('window', own.get('window'));
  setControl('amplification', own.get('amplification'));
  setControl('charts', own.get('charts'));
  $('langs').value = own.get('langs') ?? '';
  const changed = () => {
    keepInUrl();
    refresh();
  };
  for (const id of ['window', 'amplification', 'langs']) $(id).addEventListener('change', changed);
  // The chart mode needs no new data: redraw what was drawn last.
  $('charts').addEventListener('change', () => {
    keepInUrl();
    if (lastDrawn) drawSentiment(lastDrawn.view, { ...lastDrawn.asked, charts: $('charts').value });
  });
  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => lastDrawn && drawSentiment(lastDrawn.view, lastDrawn.asked), 150);
  });
  await refresh();
}

start();
