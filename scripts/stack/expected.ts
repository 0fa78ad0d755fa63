/**
 * The podman stack's truth, computed without the pipeline (scripts/stack.sh):
 *
 *   node --import tsx scripts/stack/expected.ts limit POSTS
 *       how many posts of the fixture the emulator must load (its --limit) to serve POSTS distinct
 *       posts that match rules.example.yaml
 *   node --import tsx scripts/stack/expected.ts check POSTS INFLUXDB_URL
 *       compares what InfluxDB holds with what the emulator serves for the rules: rows per topic,
 *       distinct posts, (post, topic) keys stored twice; prints one JSON line {ok, problems, ...};
 *       exit 0 when all match, 1 when not
 *
 * The expected rows come from bench/lib/emulated.ts: the emulator's own rule matcher over the same
 * recording and rules (the emulator ignores recorded matching_rules and serves only matching posts).
 */
import { expectedFromEmulator } from '../../bench/lib/emulated.js';
import { compareRows } from '../../bench/lib/verify.js';
import { influxdbSection } from '../../src/config/sections/influxdb.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';

const FIXTURE = 'bench/fixtures/posts.ndjson.gz';
const [cmd, postsArg, url] = process.argv.slice(2);
const posts = Number(postsArg);
if (!Number.isInteger(posts) || posts <= 0 || (cmd !== 'limit' && cmd !== 'check') || (cmd === 'check' && !url)) {
  process.stderr.write('usage: expected.ts limit POSTS | check POSTS INFLUXDB_URL\n');
  process.exit(2);
}
const expected = expectedFromEmulator(FIXTURE, posts);
if (cmd === 'limit') {
  process.stdout.write(`${expected.emulatorLimit}\n`);
} else {
  const query = new InfluxQuery(influxdbSection.parse({ url, bucket: 'crowdpulse/autogen' }));
  try {
    const got = await query.integrity();
    const verdict = compareRows(expected, got.rowsPerTopic, got.distinctPosts, got.duplicateKeys);
    const stored = [...got.rowsPerTopic.values()].reduce((a, b) => a + b, 0);
    const want = Object.values(expected.rowsPerTopic).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `${JSON.stringify({ ok: verdict.ok, problems: verdict.problems, rows: stored, expectedRows: want, posts: got.distinctPosts, expectedPosts: expected.posts, duplicateKeys: got.duplicateKeys, rowsPerTopic: verdict.storedRowsPerTopic, expectedRowsPerTopic: expected.rowsPerTopic })}\n`,
    );
    process.exitCode = verdict.ok ? 0 : 1;
  } finally {
    await query.close();
  }
}
