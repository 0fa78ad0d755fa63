/**
 * An InfluxDB with authentication on (its own instance, scripts/influxdb.sh). 1.8 (INFLUXDB_AUTH=true):
 * token "user:password" writes and queries. 2.7 (auth always on): an API token that may read and
 * write the bucket only, made with the operator token. Either way a wrong token is a 401 whose
 * batch is dead-lettered with the reason, at once — not retried, not dropped — and a query
 * without a token is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { MemoryDeadLetters } from '../helpers.js';
import { bucketToken, clientConfig, healthy, INFLUX_ORG, INFLUX_TOKEN, influxScript, IS_INFLUX_V2, scoredPost, testServiceDir } from './server.js';

const PORT = Number(process.env.CROWDPULSE_TEST_INFLUXDB_AUTH_PORT ?? 18106);
const PASSWORD = 'cp-test-secret';
const ENV = {
  INFLUXDB_PORT: String(PORT),
  INFLUXDB_RPC_PORT: String(PORT + 2),
  INFLUXDB_SERVICE_DIR: testServiceDir('influxdb-auth-test'),
  INFLUXDB_DB: 'authtest',
  INFLUXDB_AUTH: 'true',
  INFLUXDB_ADMIN_USER: 'crowdpulse',
  INFLUXDB_ADMIN_PASSWORD: PASSWORD,
  // 2.7: the operator token and org that server.ts uses for its API calls.
  INFLUXDB_TOKEN: INFLUX_TOKEN,
  INFLUXDB_ORG: INFLUX_ORG,
};
const URL = `http://127.0.0.1:${PORT}`;

test(`auth on: ${IS_INFLUX_V2 ? 'a bucket API token' : 'a "user:password" token'} writes and queries; a wrong one dead-letters the batch (401)`, async (t) => {
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
  const token = IS_INFLUX_V2 ? await bucketToken(URL, 'authtest') : `crowdpulse:${PASSWORD}`;
  const good = clientConfig(URL, 'authtest', { token });

  const dead = new MemoryDeadLetters();
  const wrong = buildInfluxSink({ ...good, token: IS_INFLUX_V2 ? 'not-the-token' : 'crowdpulse:not-the-password' }, dead);
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
