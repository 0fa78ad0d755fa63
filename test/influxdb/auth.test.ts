/**
 * An InfluxDB 1.8 with authentication on (its own instance, scripts/influxdb.sh with
 * INFLUXDB_AUTH=true): token "user:password" writes and queries; a wrong password is a 401 whose
 * batch is dead-lettered with the reason, at once — not retried, not dropped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { influxdbSection } from '../../src/config/sections/influxdb.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { MemoryDeadLetters, ROOT } from '../helpers.js';
import { healthy, influxScript, scoredPost } from './server.js';

const PORT = Number(process.env.CROWDPULSE_TEST_INFLUXDB_AUTH_PORT ?? 18106);
const PASSWORD = 'cp-test-secret';
const ENV = {
  INFLUXDB_PORT: String(PORT),
  INFLUXDB_RPC_PORT: String(PORT + 2),
  INFLUXDB_SERVICE_DIR: `${ROOT}.services/influxdb-auth-test`,
  INFLUXDB_DB: 'authtest',
  INFLUXDB_AUTH: 'true',
  INFLUXDB_ADMIN_USER: 'crowdpulse',
  INFLUXDB_ADMIN_PASSWORD: PASSWORD,
};
const URL = `http://127.0.0.1:${PORT}`;

test('auth on: "user:password" token writes and queries; a wrong one dead-letters the batch (401)', async (t) => {
  const up = influxScript('up', ENV);
  if (up.status !== 0 || !(await healthy(URL))) {
    if (process.env.CI === 'true') throw new Error(`scripts/influxdb.sh up (auth) failed:\n${up.output}`);
    t.skip(`InfluxDB with auth could not be started on ${URL}: ${up.output.slice(-300)}`);
    return;
  }
  t.after(() => {
    influxScript('reset', ENV);
  });
  const T0 = Date.UTC(2026, 10, 26, 8);
  const posts = Array.from({ length: 50 }, (_, i) => scoredPost(T0 + i * 10, i));
  const good = influxdbSection.parse({ url: URL, bucket: 'authtest/autogen', token: `crowdpulse:${PASSWORD}` });

  const dead = new MemoryDeadLetters();
  const wrong = buildInfluxSink({ ...good, token: 'crowdpulse:not-the-password' }, dead);
  const started = Date.now();
  await wrong.write(posts);
  await wrong.close();
  assert.ok(Date.now() - started < 5000, 'no retry loop on 401');
  assert.equal(dead.letters.length, posts.length);
  for (const l of dead.letters) assert.match(l.reason, /HTTP 401/);

  const sink = buildInfluxSink(good, dead);
  await sink.write(posts);
  await sink.close();
  assert.equal(dead.letters.length, posts.length, 'no further dead letters');
  const query = new InfluxQuery(good);
  t.after(() => query.close());
  assert.deepEqual(
    (await query.topics()).map((s) => [s.topic, s.count]),
    [['markets', 50]],
  );
  const denied = new InfluxQuery({ ...good, token: '' });
  t.after(() => denied.close());
  await assert.rejects(denied.topics(), /401|authoriz/i);
});
