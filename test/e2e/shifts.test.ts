/**
 * #13.5 end to end: `crowdpulse run` over posts with a planted turn in one topic's mood detects the
 * shift, stores it, counts it in crowdpulse_sentiment_shifts_total, lists it with
 * `crowdpulse query --shifts`, and POSTs it to the webhook, retried after a refusal.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, tempDir } from '../helpers.js';

const exec = promisify(execFile);
const CLI = join(ROOT, 'bin/crowdpulse.js');

const GOOD = ['I love acme, wonderful service', 'acme is great, so happy with it', 'best purchase ever, thank you acme', 'acme support was amazing today'];
const BAD = ['acme is terrible, I hate it', 'worst service ever, acme is awful', 'acme broke again, so angry', 'never buying acme again, horrible'];
const FLAT = ['acme opened a new store', 'acme update released today', 'the acme event is on tuesday'];

/** A deterministic stream: `steady` topic all along; `acme` turns from mostly good to mostly bad at `turnAt`. */
function stream(start: number, minutes: number, turnAt: number): string {
  let seed = 7;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const lines: string[] = [];
  let id = 1_900_000_000_000_000_000n;
  for (let m = 0; m < minutes; m++) {
    for (let k = 0; k < 15; k++) {
      const at = start + m * 60_000 + Math.floor(random() * 60_000);
      const turned = at >= turnAt;
      const r = random();
      const pool = turned ? (r < 0.7 ? BAD : r < 0.85 ? FLAT : GOOD) : r < 0.7 ? GOOD : r < 0.85 ? FLAT : BAD;
      const text = pool[Math.floor(random() * pool.length)] as string;
      id += 1n;
      lines.push(
        JSON.stringify({ data: { id: id.toString(), text, created_at: new Date(at).toISOString(), lang: 'en' }, matching_rules: [{ id: '1', tag: 'acme' }] }),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

test('#13.5 a planted turn is detected, stored, listed by query --shifts, counted and sent to the webhook', async (t) => {
  const received: { body: string; key: string | undefined }[] = [];
  let refused = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (refused === 0) {
        refused += 1;
        res.writeHead(503).end();
        return;
      }
      received.push({ body, key: req.headers['idempotency-key'] as string | undefined });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const dir = tempDir('shifts-e2e');
  const input = join(dir, 'posts.ndjson');
  const start = Math.floor((Date.now() - 4 * 3600_000) / 60_000) * 60_000;
  const turnAt = start + 150 * 60_000;
  writeFileSync(input, stream(start, 200, turnAt));
  const db = join(dir, 'store.db');
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDPULSE_'))),
    CROWDPULSE_ALERTS_WEBHOOK_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    CROWDPULSE_ALERTS_WEBHOOK_RETRY_INITIAL_MS: '20',
    CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
    CROWDPULSE_LOG_LEVEL: 'warn',
  };
  await exec(process.execPath, [CLI, 'run', '--input', input, '--db', db, '--port', '0', '--progress', 'off'], { cwd: ROOT, env, maxBuffer: 16 << 20 });

  const { stdout } = await exec(
    process.execPath,
    [CLI, 'query', '--db', db, '--shifts', '--from', new Date(start).toISOString(), '--to', new Date(start + 300 * 60_000).toISOString(), '--format', 'json'],
    { cwd: ROOT, env },
  );
  const shifts = JSON.parse(stdout) as {
    topic: string;
    time: string;
    kind: string;
    direction: string;
    changeAt: string;
    before: { meanScore: number };
    after: { meanScore: number };
    postIds: string[];
  }[];
  const down = shifts.filter((s) => s.topic === 'acme' && s.kind === 'mean' && s.direction === 'down');
  assert.equal(down.length, 1, `one downward mean shift: ${stdout}`);
  const shift = down[0]!;
  const detected = Date.parse(shift.time);
  assert.ok(detected > turnAt && detected <= turnAt + 15 * 60_000, `detected ${shift.time}, turned ${new Date(turnAt).toISOString()}`);
  assert.ok(Math.abs(Date.parse(shift.changeAt) - turnAt) <= 10 * 60_000, `change point ${shift.changeAt}`);
  assert.ok(shift.before.meanScore > shift.after.meanScore + 0.3);
  assert.ok(shift.postIds.length > 0 && shift.postIds.length <= 10);
  assert.equal(shifts.filter((s) => s.kind === 'mean' && Date.parse(s.time) < turnAt).length, 0, 'no mean shift before the turn');

  // The webhook got it after one 503, with an idempotency key.
  assert.equal(refused, 1);
  const bodies = received.map((r) => JSON.parse(r.body) as { type: string; event: { topic: string; kind: string; direction: string } });
  assert.ok(
    bodies.some((b) => b.type === 'sentiment_shift' && b.event.topic === 'acme' && b.event.kind === 'mean' && b.event.direction === 'down'),
    JSON.stringify(bodies),
  );
  assert.ok(received.every((r) => (r.key ?? '').length > 0));

  const table = await exec(
    process.execPath,
    [CLI, 'query', '--db', db, '--shifts', '--from', new Date(start).toISOString(), '--to', new Date(start + 300 * 60_000).toISOString()],
    {
      cwd: ROOT,
      env,
    },
  );
  assert.match(table.stdout, /acme\s+mean\s+down/);
});
