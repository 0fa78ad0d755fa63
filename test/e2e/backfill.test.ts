/**
 * #14.1 end to end: `crowdpulse run --source x` against the emulator, which publishes its recording
 * whether or not a connection is open (as X does), with a drop or a stall every few seconds. The
 * stream misses what is published while it is down; backfill fills each hole from recent search.
 * At the end every matching post is stored exactly once (stream plus backfill), and the budget holds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { matches, parseRule } from '../../src/x/rule-language.js';
import { syncRules } from '../../src/x/rules.js';
import { ROOT, tempDir } from '../helpers.js';
import { storedRows } from '../kafka/roles.js';
import { clientFor, startEmulator, syntheticPosts, TOKEN } from '../x/helpers.js';

const CLI = join(ROOT, 'bin/crowdpulse.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const RULES = [
  { value: 'bitcoin', tag: 'crypto' },
  { value: 'lovely', tag: 'mood' },
] as const;
const CAP = 200_000;

test(
  '#14.1 drops and stalls every few seconds: every matching post is stored exactly once, stream plus backfill, within the budget',
  { timeout: 180_000 },
  async (t) => {
    const posts = syntheticPosts(1200);
    const expected = new Set<string>();
    for (const rule of RULES) {
      const node = parseRule(rule.value);
      assert.ok(node.ok);
      for (const p of posts) if (matches(node.value, p.features)) expected.add(`${String(p.data.id)}\t${rule.tag}`);
    }
    const emu = await startEmulator({ posts, rate: 60, loop: false, keepAliveMs: 200, searchEndLagMs: 500, usageCap: CAP });
    t.after(() => emu.close());
    assert.ok((await syncRules(clientFor(emu), [...RULES])).ok);

    const dir = tempDir('backfill-e2e');
    const db = join(dir, 'store.db');
    const statePath = join(dir, 'governor.json');
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDPULSE_') && k !== 'X_BEARER_TOKEN'));
    const child = spawn(process.execPath, [CLI, 'run', '--source', 'x', '--db', db, '--port', '0', '--progress', 'off'], {
      cwd: ROOT,
      env: {
        ...clean,
        X_BEARER_TOKEN: TOKEN,
        CROWDPULSE_X_API_URL: emu.url,
        CROWDPULSE_X_MONTHLY_CAP: String(CAP),
        CROWDPULSE_X_BURST: '100000',
        CROWDPULSE_X_STATE_PATH: statePath,
        CROWDPULSE_X_USAGE_CHECK_MINUTES: '0',
        CROWDPULSE_X_KEEP_ALIVE_TIMEOUT_MS: '1000',
        CROWDPULSE_X_BACKFILL_DELAY_SECONDS: '1',
        CROWDPULSE_X_BACKFILL_MARGIN_SECONDS: '1',
        CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
        CROWDPULSE_PIPELINE_DRAIN_TIMEOUT_MS: '5000',
        CROWDPULSE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    for (let i = 0; i < 80 && emu.stats.streamConnects < 1; i++) await sleep(250);
    assert.ok(emu.stats.streamConnects >= 1, `connected (${stderr})`);
    // A fault every 2.5 s while the recording is published (about 930 matching posts at 60/s: 16 s).
    const faults = ['drop', 'stall', 'drop', 'stall', 'drop'] as const;
    for (const kind of faults) {
      await sleep(2500);
      emu.inject(kind === 'drop' ? { kind } : { kind, ms: 3000 });
    }
    // Wait for every pair (the last holes are filled a second or two after the stream is back).
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && storedRows(db).rows < expected.size) await sleep(500);
    await sleep(2000);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);

    const { pairs, rows } = storedRows(db);
    const missing = [...expected].filter((p) => !pairs.has(p));
    const extra = [...pairs].filter((p) => !expected.has(p));
    assert.deepEqual(
      { missing: missing.length, extra: extra.length, rows },
      { missing: 0, extra: 0, rows: expected.size },
      `e.g. missing ${missing.slice(0, 3).join(', ')}`,
    );
    // The stream alone did not have them all: the holes were real, and backfill filled them.
    assert.ok(emu.stats.postsServed < expected.size, `the stream delivered ${emu.stats.postsServed} of ${expected.size}`);
    assert.ok(emu.stats.streamConnects >= faults.length, `reconnected after every fault (${emu.stats.streamConnects} connects)`);
    // Exactly once from the source too, not only in the store: every message read became one stored post.
    const read = Number(/lines read\s+(\d+)/.exec(stdout)?.[1]);
    const stored = Number(/posts stored\s+(\d+)/.exec(stdout)?.[1]);
    assert.equal(read, expected.size, `the source handed on each post once (summary:\n${stdout})`);
    assert.equal(stored, expected.size);
    // Within the budget: what X counted (stream and search) is under the cap, and the governor saw it.
    const consumed = (JSON.parse(readFileSync(statePath, 'utf8')) as { consumed: number }).consumed;
    assert.ok(emu.currentUsage() <= CAP && consumed <= CAP, `usage ${emu.currentUsage()}, governor ${consumed}`);
    assert.ok(consumed >= expected.size, `the governor counted stream and search posts (${consumed})`);
    // The holes are recorded as filled in the coverage events.
    const query = new SqliteQuery(db);
    t.after(() => query.close());
    const events = await query.coverage({ from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000) });
    const fills = events.filter((e) => e.state === 'backfilled');
    assert.ok(fills.length >= 1, `backfilled events: ${JSON.stringify(events.map((e) => e.state))}`);
    assert.ok(fills.every((e) => e.until !== undefined && e.until > e.at));
  },
);
