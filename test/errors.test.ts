/**
 * #12.5: one table of error codes (src/errors.ts), the same in the README and in what src/ uses,
 * and the CLI's mapping of an error to its line and exit status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './helpers.js';
import { asCrowdpulseError, codeOf, CrowdpulseError, ERROR_CODES, errorLine, exitStatus, type ErrorCode } from '../src/errors.js';
import { ConfigError } from '../src/config/load.js';
import { DeadLetterPathError } from '../src/sinks/dead-letter/file-dead-letter-sink.js';
import { SinkClosedError } from '../src/sinks/influxdb/sink.js';
import { CredentialError } from '../src/x/credentials.js';
import { BudgetError } from '../src/x/governor.js';
import { RateLimitedError } from '../src/x/rest-rate-limits.js';
import { RulesError } from '../src/x/rules.js';
import { StageError } from '../src/pipeline/runner.js';
import { DeliveryError } from '../src/kafka/producer.js';
import { StoreNotReadyError } from '../src/dashboard/lazy-query.js';
import { ModelError } from '../src/model/errors.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(e.name) ? [path] : [];
  });
}

test('every code in ERROR_CODES is a row of the README table with its exit status and retriable flag', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /^### Errors and exit statuses$/m);
  for (const code of CODES) {
    const { exit, retriable } = ERROR_CODES[code];
    const row = new RegExp(`^\\| \`${code}\` \\| ${exit} \\| ${retriable ? 'yes' : 'no'} \\| .+ \\|$`, 'm');
    assert.match(readme, row, `README.md: no row "| \`${code}\` | ${exit} | ${retriable ? 'yes' : 'no'} | … |"`);
  }
  const rows = [...readme.matchAll(/^\| `(CP_[A-Z0-9_]+)` \| \d \| (?:yes|no) \|/gm)].map((m) => m[1]);
  assert.deepEqual([...rows].sort(), [...CODES].sort(), 'the README table lists exactly the codes of ERROR_CODES');
});

test('every CP_* code used in src/ is in ERROR_CODES', () => {
  const unknown: string[] = [];
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    // Quoted codes: `code = 'CP_…'`, `new CrowdpulseError('CP_…', …)`, `{ code: 'CP_…' }`, `CrowdpulseError<'CP_…'>`.
    for (const m of text.matchAll(/['"`](CP_[A-Z0-9_]*)['"`]/g)) {
      if (!(m[1]! in ERROR_CODES)) unknown.push(`${relative(ROOT, file)}: ${m[1]}`);
    }
  }
  assert.deepEqual(unknown, []);
});

test('no error class in src/ extends Error directly: each is a CrowdpulseError with a code', () => {
  const direct: string[] = [];
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    if (file.endsWith(join('src', 'errors.ts'))) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/class (\w+)(?:<[^>]*>)? extends Error\b/g)) direct.push(`${relative(ROOT, file)}: ${m[1]}`);
  }
  assert.deepEqual(direct, []);
});

test('the error classes keep their names and codes, with retriable from the table', () => {
  const cases: [CrowdpulseError, string, ErrorCode, boolean][] = [
    [new ConfigError('x'), 'ConfigError', 'CP_CONFIG_INVALID', false],
    [new DeadLetterPathError('x'), 'DeadLetterPathError', 'CP_DEAD_LETTER_PATH', false],
    [new SinkClosedError(), 'SinkClosedError', 'CP_INFLUXDB_SINK_CLOSED', true],
    [new CredentialError('x'), 'CredentialError', 'CP_X_CREDENTIALS', false],
    [new BudgetError('x'), 'BudgetError', 'CP_X_BUDGET', false],
    [new RateLimitedError('/2/tweets/search/stream/rules', 0), 'RateLimitedError', 'CP_X_RATE_LIMITED', true],
    [new RulesError('x'), 'RulesError', 'CP_X_RULES', false],
    [new StageError('sink', new Error('boom')), 'StageError', 'CP_STAGE_FAILED', false],
    [new DeliveryError('x'), 'DeliveryError', 'CP_KAFKA_DELIVERY_FAILED', true],
    [new StoreNotReadyError('x'), 'StoreNotReadyError', 'CP_STORE_NOT_READY', true],
    [new ModelError('CP_MODEL_NOT_FOUND', 'x'), 'ModelError', 'CP_MODEL_NOT_FOUND', false],
  ];
  for (const [e, name, code, retriable] of cases) {
    assert.ok(e instanceof CrowdpulseError && e instanceof Error, name);
    assert.equal(e.name, name);
    assert.equal(e.code, code);
    assert.equal(e.retriable, retriable, `${name}.retriable`);
  }
  const cause = new Error('inner');
  assert.equal(new StageError('sink', cause).cause, cause);
  assert.equal(new StageError('sink', cause).message, 'stage sink failed: inner');
});

test("the CLI line and exit status: the code's exit, 1 and CP_INTERNAL for an error without a code", () => {
  const config = new ConfigError('config error: model.threads = -3 (from config file bad.yaml): Too small');
  assert.equal(exitStatus(config), 2);
  assert.equal(errorLine(config), 'config error: model.threads = -3 (from config file bad.yaml): Too small (CP_CONFIG_INVALID)');
  assert.equal(exitStatus(new CrowdpulseError('CP_USAGE', 'eval needs a FILE (or --card)')), 2);
  assert.equal(exitStatus(new DeadLetterPathError('deadLetter.path = "x": is a directory')), 1);
  assert.equal(exitStatus(new CredentialError('X credentials: no bearer token')), 1);
  assert.equal(exitStatus(new Error('plain')), 1);
  assert.equal(exitStatus('a string'), 1);
  assert.equal(errorLine(new Error('plain')), 'plain (CP_INTERNAL)');
  assert.equal(errorLine(new Error('two\n  lines')), 'two lines (CP_INTERNAL)', 'always one line');
  for (const code of CODES) assert.equal(exitStatus(new CrowdpulseError(code, 'x')), ERROR_CODES[code].exit);
});

test('codeOf and asCrowdpulseError keep a code that is there and give a fallback otherwise', () => {
  const budget = new BudgetError('too many');
  assert.equal(codeOf(budget, 'CP_X_GOVERNOR_STATE'), 'CP_X_BUDGET');
  assert.equal(codeOf(new Error('x'), 'CP_X_GOVERNOR_STATE'), 'CP_X_GOVERNOR_STATE');
  assert.equal(codeOf(new Error('x')), 'CP_INTERNAL');
  assert.equal(asCrowdpulseError(budget, 'CP_DATASET_INVALID'), budget);
  const plain = new Error('ENOENT: no such file');
  const wrapped = asCrowdpulseError(plain, 'CP_DATASET_INVALID');
  assert.equal(wrapped.code, 'CP_DATASET_INVALID');
  assert.equal(wrapped.message, 'ENOENT: no such file');
  assert.equal(wrapped.cause, plain);
});

test('no bare `new Error(` in src/: every error thrown or returned by crowdpulse carries a code', () => {
  const bare = sourceFiles(join(ROOT, 'src'))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ where: `${relative(ROOT, f)}:${i + 1}`, line })),
    )
    .filter(({ line }) => /\bnew Error\(/.test(line));
  assert.deepEqual(
    bare.map((b) => b.where),
    [],
  );
});
