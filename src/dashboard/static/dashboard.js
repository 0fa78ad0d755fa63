// The dashboard page: polls the JSON API and redraws. Plain ES module, no framework.
import { lineChart, niceMax } from './charts.js';

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

let lastView;
function drawSentiment(view) {
  lastView = view;
  const from = view.from ? Date.parse(view.from) : Date.now() - 3600e3;
  const to = view.to ? Date.parse(view.to) : Date.now();
  const series = (key, title) => view.series.map((s) => ({
    topic: s.topic,
    color: colorOf(s.topic),
    points: s.points.map((p) => ({ t: Date.parse(p.t), value: p[key], title: `${s.topic} ${p.t}\n${title(p)}` })),
  }));
  const scoreChart = $('score-chart');
  scoreChart.dataset.from = view.from ?? '';
  scoreChart.dataset.to = view.to ?? '';
  scoreChart.dataset.bucketSeconds = String(view.bucketSeconds);
  lineChart(scoreChart, {
    series: series('meanScore', (p) => `mean ${p.meanScore.toFixed(3)} over ${p.count} posts`),
    from, to, gapMs: view.bucketSeconds * 1500, yMin: -1, yMax: 1, yTicks: [-1, -0.5, 0, 0.5, 1], yFormat: (v) => v.toFixed(1), zeroLine: true,
  });
  const maxCount = niceMax(Math.max(0, ...view.series.flatMap((s) => s.points.map((p) => p.count))));
  lineChart($('volume-chart'), {
    series: series('count', (p) => `${p.count} posts`),
    from, to, gapMs: view.bucketSeconds * 1500, yMin: 0, yMax: maxCount, yTicks: [0, maxCount / 4, maxCount / 2, (3 * maxCount) / 4, maxCount], yFormat: (v) => num(v),
  });
  $('volume-unit').textContent = view.bucketSeconds ? `(posts per ${widthLabel(view.bucketSeconds)})` : '';
  $('legend').replaceChildren(...view.series.map((s) => {
    const item = text('span', s.topic);
    item.style.setProperty('--c', colorOf(s.topic));
    return item;
  }));
  const rows = view.summaries.map((t) => {
    const row = document.createElement('tr');
    row.dataset.topic = t.topic;
    row.dataset.count = String(t.count);
    row.append(text('td', t.topic), text('td', t.count.toLocaleString('en'), 'num'), text('td', t.meanScore.toFixed(3), 'num'));
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
  add('dead letters', `${dead.toLocaleString('en')}${dead ? ` (${h.deadLetters.map((d) => `${d.stage}/${d.code} ${d.total}`).join(', ')})` : ''}`, dead ? 'bad' : '');
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
    add('X budget', `${b.consumedPosts.toLocaleString('en')} of ${b.capPosts.toLocaleString('en')} posts used · ${b.remainingPosts.toLocaleString('en')} left${b.periodEnd ? ` until ${b.periodEnd.slice(0, 10)}` : ''}`, b.remainingPosts <= 0 ? 'bad' : '');
    if (b.headroomPosts !== null) add('budget headroom', `${b.headroomPosts.toLocaleString('en')} posts${b.headroomPosts < 0 ? ' (stream paused)' : ''}`, b.headroomPosts < 0 ? 'bad' : 'good');
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

/** Filters the page's own URL passes on to the API (at, langs, amplification, authorCap; see README). */
function pageFilters() {
  const own = new URLSearchParams(location.search);
  const out = {};
  for (const name of ['at', 'langs', 'amplification', 'authorCap']) if (own.get(name)) out[name] = own.get(name);
  return out;
}

let refreshSeconds = 5;
let timer;
async function refresh() {
  clearTimeout(timer);
  const status = $('status');
  try {
    const [view, health] = await Promise.all([getJson('sentiment', { ...pageFilters(), window: $('window').value }), getJson('health')]);
    drawSentiment(view);
    drawHealth(health);
    const until = view.dataEnd ? `newest post ${view.dataEnd.replace('T', ' ').slice(0, 19)} UTC` : 'no posts stored yet';
    status.textContent = `updated ${new Date().toLocaleTimeString('en-GB')} · ${until} · refresh every ${refreshSeconds} s`;
    status.className = 'muted';
    document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
  } catch (e) {
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
  const initialWindow = new URLSearchParams(location.search).get('window');
  if (initialWindow) {
    const select = $('window');
    if (![...select.options].some((o) => o.value === initialWindow)) select.append(new Option(`${initialWindow} s`, initialWindow));
    select.value = initialWindow;
  }
  $('window').addEventListener('change', refresh);
  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => lastView && drawSentiment(lastView), 150);
  });
  await refresh();
}

start();
