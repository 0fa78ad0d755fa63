import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { resolveModelDir } from '../../src/model/registry.js';
import { SentimentPool } from '../../src/transforms/sentiment/sentiment-pool.js';

/** Nice value of each thread of this process (Linux /proc: field 19 of a task's stat). */
function niceOfThreads(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after its last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    nice.set(Number(tid), Number(fields[16]));
  }
  return nice;
}

test(
  'model.workerNice lowers the inference threads, not the main thread',
  { skip: process.platform !== 'linux' && 'thread nice values are Linux only' },
  async (t) => {
    const before = niceOfThreads();
    const mainNice = before.get(process.pid);
    assert.notEqual(mainNice, undefined);
    const pool = new SentimentPool(resolveModelDir('fast'), 2, { nice: 7 });
    t.after(() => pool.close());
    await pool.warmUp();
    const after = niceOfThreads();
    const lowered = [...after].filter(([tid, n]) => !before.has(tid) && n === mainNice! + 7);
    assert.ok(lowered.length >= 2, `two worker threads at nice ${mainNice! + 7}: ${JSON.stringify([...after])}`);
    assert.equal(after.get(process.pid), mainNice, 'the main thread keeps its priority');
    const { probs } = await pool.run(['I love it', 'I hate it']);
    assert.equal(probs.length, 6, 'the lowered workers still score');
  },
);

test('nice 0 leaves the worker threads at the process priority', { skip: process.platform !== 'linux' && 'thread nice values are Linux only' }, async (t) => {
  const before = niceOfThreads();
  const mainNice = before.get(process.pid)!;
  const pool = new SentimentPool(resolveModelDir('fast'), 1, { nice: 0 });
  t.after(() => pool.close());
  await pool.warmUp();
  const fresh = [...niceOfThreads()].filter(([tid]) => !before.has(tid));
  assert.ok(fresh.length >= 1);
  assert.ok(
    fresh.every(([, n]) => n === mainNice),
    JSON.stringify(fresh),
  );
});
