import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { configKeys, loadConfig, NON_CONFIG_ENV } from '../../src/config/load.js';
import { ROOT, tempDir } from '../helpers.js';

const dir = tempDir('config-strict');

/** The one error line of a config that must be refused. */
function refused(input: Parameters<typeof loadConfig>[0]): string {
  const r = loadConfig(input);
  assert.ok(!r.ok, 'the config is refused');
  assert.equal(r.error.message.split('\n').length, 1, `one line: ${r.error.message}`);
  return r.error.message;
}

test('#11.11 array keys from the environment take a comma-separated list (CROWDPULSE_MODEL_LANGUAGES=en,de)', () => {
  const r = loadConfig({ env: { CROWDPULSE_MODEL_LANGUAGES: ' en, de ,,fr ' } });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(r.value.model.languages, ['en', 'de', 'fr']);
  // Every array-valued key, not only this one: found from the defaults, so a new array key is covered too.
  const defaults = loadConfig({}) as { ok: true; value: Record<string, Record<string, unknown>> };
  const arrayKeys = configKeys().filter(({ section, key }) => Array.isArray(defaults.value[section]?.[key]));
  assert.ok(arrayKeys.length > 0);
  for (const { section, key, env } of arrayKeys) {
    const set = loadConfig({ env: { [env]: 'one,two' } }) as { ok: boolean; value?: Record<string, Record<string, unknown>>; error?: Error };
    assert.ok(set.ok, `${env}: ${set.error?.message}`);
    assert.deepEqual(set.value?.[section]?.[key], ['one', 'two'], env);
  }
  // A file still gives a real list.
  const file = join(dir, 'languages.yaml');
  writeFileSync(file, 'model:\n  languages: [en, es]\n');
  const fromFile = loadConfig({ file });
  assert.ok(fromFile.ok);
  assert.deepEqual(fromFile.value.model.languages, ['en', 'es']);
});

test('#11.11 a boolean takes only true/false, 1/0, yes/no, on/off: "ture" and "nope" are refused, not false', () => {
  for (const [word, expected] of [
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['Yes', true],
    ['on', true],
    ['false', false],
    ['0', false],
    ['NO', false],
    ['off', false],
  ] as const) {
    const r = loadConfig({ env: { CROWDPULSE_HTTP_ENABLED: word } });
    assert.ok(r.ok, `${word}: ${r.ok ? '' : r.error.message}`);
    assert.equal(r.value.http.enabled, expected, word);
  }
  for (const word of ['ture', 'nope', 'enabled', '2']) {
    const line = refused({ env: { CROWDPULSE_HTTP_ENABLED: word } });
    assert.match(
      line,
      new RegExp(
        `^config error: http\\.enabled = "${word}" \\(from environment CROWDPULSE_HTTP_ENABLED\\): expected a boolean: true/false, 1/0, yes/no or on/off$`,
      ),
    );
  }
  // Real booleans from a file still pass; a string that is no boolean word does not.
  const file = join(dir, 'flags.yaml');
  writeFileSync(file, 'kafka:\n  createTopics: false\nreplay:\n  governed: "maybe"\n');
  assert.match(refused({ file }), /replay\.governed = "maybe" \(from config file .*flags\.yaml\): expected a boolean/);
  writeFileSync(file, 'kafka:\n  createTopics: false\n');
  const r = loadConfig({ file });
  assert.ok(r.ok);
  assert.equal(r.value.kafka.createTopics, false);
});

test('#11.11 a misspelt CROWDPULSE_* environment variable is refused with the closest known name', () => {
  const line = refused({ env: { CROWDPULSE_MODEL_NAM: 'accurate' } });
  assert.equal(
    line,
    'config error: unknown environment variable CROWDPULSE_MODEL_NAM (not a config key); did you mean CROWDPULSE_MODEL_NAME? (crowdpulse config lists every variable)',
  );
  // A misspelt secret variable: named, its value never shown.
  const secret = refused({ env: { CROWDPULSE_X_BEARER_TOKN: 's3cr3t-value' } });
  assert.match(secret, /CROWDPULSE_X_BEARER_TOKN .*did you mean CROWDPULSE_X_BEARER_TOKEN\?/);
  assert.ok(!secret.includes('s3cr3t-value'));
  // Variables read outside the config, test-only ones, and other programs' variables pass.
  const allowed = {
    ...Object.fromEntries([...NON_CONFIG_ENV.keys()].map((k) => [k, 'x'])),
    CROWDPULSE_TEST_INFLUXDB_AUTH_PORT: '1',
    X_BEARER_TOKEN: 't',
    CROWDPULSEX: 'y',
    PATH: '/bin',
  };
  const r = loadConfig({ env: allowed });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
});

test('#11.11 URL keys take only http: and https: (influxdb.url=file:///etc/passwd is refused)', () => {
  const urlKeys = [
    ['CROWDPULSE_INFLUXDB_URL', 'influxdb.url'],
    ['CROWDPULSE_X_API_URL', 'x.apiUrl'],
  ] as const;
  for (const [env, key] of urlKeys) {
    for (const bad of ['file:///etc/passwd', 'ftp://example.com/', 'javascript:alert(1)', 'gopher://127.0.0.1:70/']) {
      const line = refused({ env: { [env]: bad } });
      assert.ok(line.startsWith(`config error: ${key} = "${bad}" (from environment ${env}): expected an http:// or https:// URL`), line);
    }
    for (const good of ['http://127.0.0.1:8086', 'https://example.com/base/']) assert.ok(loadConfig({ env: { [env]: good } }).ok, `${env}=${good}`);
  }
});

test('#11.11 a secret is never printed in an error line (influxdb: { token: 12345 }) nor by crowdpulse config', async () => {
  const file = join(dir, 'secret.yaml');
  writeFileSync(file, 'influxdb:\n  token: 12345\n');
  const line = refused({ file });
  assert.match(line, /^config error: influxdb\.token = <redacted> \(from config file .*secret\.yaml\): /);
  assert.ok(!line.includes('12345'));
  writeFileSync(file, 'kafka:\n  saslPassword: [hunter2]\n');
  const password = refused({ file });
  assert.match(password, /kafka\.saslPassword = <redacted>/);
  assert.ok(!password.includes('hunter2'));

  // crowdpulse config shows whether a secret is set, never its value.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDPULSE_')));
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/crowdpulse.js', 'config'], {
    cwd: ROOT,
    timeout: 60_000,
    env: { ...clean, CROWDPULSE_INFLUXDB_TOKEN: 'user:tok-9f8e7d', CROWDPULSE_KAFKA_SASL_PASSWORD: 'pw-6c5b4a' },
  });
  assert.ok(!stdout.includes('tok-9f8e7d') && !stdout.includes('pw-6c5b4a'), stdout);
  assert.match(stdout, /^influxdb\.token\s+CROWDPULSE_INFLUXDB_TOKEN\s+\(set\)$/m);
  assert.match(stdout, /^kafka\.saslPassword\s+CROWDPULSE_KAFKA_SASL_PASSWORD\s+\(set\)$/m);
});

test('#11.11 a long value is cut in the error line, which stays one line', () => {
  const line = refused({ env: { CROWDPULSE_HTTP_PORT: `9${'0'.repeat(10_000)}\nsecond line` } });
  assert.ok(line.length < 400, `${line.length} characters`);
  assert.match(line, /… \(\d+ characters\)/);
});
