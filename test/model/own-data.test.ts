/**
 * #17.2: `crowdpulse eval FILE` on the user's own labelled file: TSV, CSV (RFC 4180) and JSONL,
 * named text and label columns, a label mapping; every defect is CP_DATASET_INVALID naming the line
 * (or CP_USAGE for a bad --labels), never a crash. The files are written here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isCrowdpulseError } from '../../src/errors.js';
import { detectFormat, readLabelled } from '../../src/model/datasets.js';
import { parseCsvStrict, parseLabelMap, readOwn } from '../../src/model/own-data.js';
import { ROOT, tempDir } from '../helpers.js';

const dir = tempDir('own-data');
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Asserts that `fn` throws a CrowdpulseError with `code` whose message matches `message`. */
function refuses(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isCrowdpulseError(e), `not a CrowdpulseError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

test('TSV, CSV and JSONL with the default columns and labels (names, short names, 0/1/2; case and spaces ignored)', () => {
  const tsv = readLabelled(file('a.tsv', 'id\ttext\tlabel\n1\tgreat stuff\tPositive\n2\t"quoted" as is\tneu\n3\tawful\t 0 \n'));
  assert.equal(tsv.format, 'tsv');
  assert.deepEqual(tsv.texts, ['great stuff', '"quoted" as is', 'awful']);
  assert.deepEqual(tsv.labels, [2, 1, 0]);

  const csv = readLabelled(file('b.csv', '\ufefftext,label\r\n"good, really",2\r\n"say ""hi""\nthen leave",neutral\r\nbad,neg\r\n\r\n'));
  assert.equal(csv.format, 'csv');
  assert.deepEqual(csv.texts, ['good, really', 'say "hi"\nthen leave', 'bad']);
  assert.deepEqual(csv.labels, [2, 1, 0]);

  const jsonl = readLabelled(file('c.jsonl', '{"text":"fine","label":1}\n\n{"text":"love it","label":"positive","extra":[1]}\n'));
  assert.equal(jsonl.format, 'jsonl');
  assert.deepEqual(jsonl.texts, ['fine', 'love it']);
  assert.deepEqual(jsonl.labels, [1, 2]);
  assert.match(jsonl.mapping, /"neg", "0" → negative/);
});

test('named columns and a label mapping, with skip for rows to drop', () => {
  const labels = parseLabelMap('negative=bad,-1; positive=good,1; neutral=meh; skip=irrelevant');
  const csv = file('d.csv', 'tweet,mood\nhello,meh\nyay,GOOD\nugh,-1\nspam,irrelevant\n');
  const set = readLabelled(csv, 'csv', { textColumn: 'tweet', labelColumn: 'mood', labels });
  assert.deepEqual(set.texts, ['hello', 'yay', 'ugh']);
  assert.deepEqual(set.labels, [1, 2, 0]);
  assert.equal(set.dropped, 1);
  const jsonl = file('e.jsonl', '{"body":"yay","y":1}\n{"body":"ugh","y":-1}\n');
  assert.deepEqual(readOwn(jsonl, 'jsonl', { textColumn: 'body', labelColumn: 'y', labels }).labels, [2, 0]);
  // The names of the public sets win only without own-file options.
  assert.equal(detectFormat('/x/Tweets.csv'), 'us-airline');
  assert.equal(detectFormat('/x/Tweets.csv', true), 'csv');
  assert.equal(detectFormat('/x/mine.ndjson'), 'jsonl');
});

test('each defect is CP_DATASET_INVALID naming the file and line', () => {
  refuses(() => readLabelled(file('empty.csv', '')), 'CP_DATASET_INVALID', /empty\.csv: empty/);
  refuses(() => readLabelled(file('empty.jsonl', '\n\n')), 'CP_DATASET_INVALID', /empty\.jsonl: no labelled rows/);
  refuses(() => readLabelled(file('header-only.tsv', 'text\tlabel\n')), 'CP_DATASET_INVALID', /header-only\.tsv: no labelled rows/);
  refuses(
    () => readLabelled(file('nocol.csv', 'body,label\nx,0\n')),
    'CP_DATASET_INVALID',
    /nocol\.csv:1: no column "text".*columns: body, label.*--text-column/,
  );
  refuses(() => readLabelled(file('nolabel.tsv', 'text\tmood\nx\t0\n')), 'CP_DATASET_INVALID', /nolabel\.tsv:1: no column "label".*--label-column/);
  refuses(
    () => readLabelled(file('unknown.csv', 'text,label\na,0\n"b\nc",2\nd,very positive\n')),
    'CP_DATASET_INVALID',
    /unknown\.csv:5: label "very positive" is not in/,
  );
  refuses(() => readLabelled(file('fields.tsv', 'text\tlabel\na\t0\nb\t1\textra\n')), 'CP_DATASET_INVALID', /fields\.tsv:3: 3 fields, the header has 2/);
  refuses(() => readLabelled(file('q1.csv', 'text,label\nsay "hi",0\n')), 'CP_DATASET_INVALID', /q1\.csv:2: a quote inside an unquoted field/);
  refuses(() => readLabelled(file('q2.csv', 'text,label\n"hi" there,0\n')), 'CP_DATASET_INVALID', /q2\.csv:2: " " after a closing quote/);
  refuses(
    () => readLabelled(file('q3.csv', 'text,label\na,0\n"never closed,1\nb,2\n')),
    'CP_DATASET_INVALID',
    /q3\.csv:3: a quoted field opened here is never closed/,
  );
  refuses(() => readLabelled(file('bad.jsonl', '{"text":"a","label":0}\n{"text":"b",label:1}\n')), 'CP_DATASET_INVALID', /bad\.jsonl:2: not JSON/);
  refuses(() => readLabelled(file('arr.jsonl', '["a",0]\n')), 'CP_DATASET_INVALID', /arr\.jsonl:1: not a JSON object/);
  refuses(() => readLabelled(file('nokey.jsonl', '{"text":"a","label":0}\n{"txt":"b","label":0}\n')), 'CP_DATASET_INVALID', /nokey\.jsonl:2: no key "text"/);
  refuses(() => readLabelled(file('type.jsonl', '{"text":7,"label":0}\n')), 'CP_DATASET_INVALID', /type\.jsonl:1: "text" is not a string/);
  refuses(() => readLabelled(file('lab.jsonl', '{"text":"a","label":null}\n')), 'CP_DATASET_INVALID', /lab\.jsonl:1: "label" is not a string or a number/);
  refuses(() => readLabelled(join(dir, 'missing.csv')), 'CP_DATASET_INVALID', /missing\.csv: cannot be read/);
  // Line numbers count the lines inside quoted fields.
  assert.deepEqual(
    parseCsvStrict('a,b\r\n"x\r\ny",z\n\nlast,1', 'f').map((r) => r.line),
    [1, 2, 5],
  );
});

test('a bad --labels is CP_USAGE', () => {
  refuses(() => parseLabelMap('negative'), 'CP_USAGE', /no "="/);
  refuses(() => parseLabelMap('bad=0'), 'CP_USAGE', /"bad" is not a class/);
  refuses(() => parseLabelMap('negative=0;positive=0'), 'CP_USAGE', /"0" is mapped to two classes/);
  refuses(() => parseLabelMap('negative=a,,b'), 'CP_USAGE', /empty value/);
  refuses(() => parseLabelMap(' ; '), 'CP_USAGE', /no mapping/);
});

test('crowdpulse eval on an own file: the mapping is used, and a bad file is one error line with its code, not a stack', { timeout: 60_000 }, () => {
  const cli = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, [join(ROOT, 'bin/crowdpulse.js'), 'eval', ...args, '--model', 'fast', '--threads', '1'], { encoding: 'utf8', timeout: 50_000 });
  const ok = cli([
    file('mine.tsv', 'post\tsentiment\nI love this, brilliant\tup\nthis is awful, I hate it\tdown\n'),
    '--text-column',
    'post',
    '--label-column',
    'sentiment',
    '--labels',
    'positive=up;negative=down',
    '--json',
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  const r = JSON.parse(ok.stdout.trim().split('\n').at(-1)!) as { n: number; format: string; mapping: string; confusion: number[][] };
  assert.equal(r.n, 2);
  assert.equal(r.format, 'tsv');
  assert.match(r.mapping, /"up" → positive/);

  const bad = cli([file('mine-bad.csv', 'text,label\nfine,0\nok,maybe\n')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /CP_DATASET_INVALID/);
  assert.match(bad.stderr, /mine-bad\.csv:3: label "maybe"/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);

  const usage = cli([file('mine2.csv', 'text,label\nfine,0\n'), '--labels', 'nope=1']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /CP_USAGE/);
  const wrongFormat = cli([file('x_text.txt', 'a\n'), '--format', 'tweeteval', '--labels', 'positive=1']);
  assert.equal(wrongFormat.status, 2);
  assert.match(wrongFormat.stderr, /for own files/);
});
