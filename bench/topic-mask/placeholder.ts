/**
 * Topic-fair scoring: which placeholder the topic terms become, chosen by measurement on TweetEval
 * val (never test, never the held-out invariance suite). Standalone:
 *
 *   node --import tsx bench/topic-mask/placeholder.ts [--tiers fast,accurate] [--entities 150]
 *
 * TweetEval has no topic column, so the script stands a topic in for each post: proper names found
 * in the training split (words written capitalised, not first in the post, in ≥ 90 % of their
 * occurrences, weekdays and months left out; the `--entities` most frequent). Val posts holding one of them are scored as written
 * and with every such name masked by each candidate placeholder; the macro-recall on those posts
 * says what masking costs, and how far each candidate moves the labels.
 * Writes bench/results/topic-mask-placeholder-<UTC date>.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LABELS } from '../../src/contract/index.js';
import { loadConfig } from '../../src/config/load.js';
import { score } from '../../src/model/accuracy.js';
import { readLabelled } from '../../src/model/datasets.js';
import { CountingMemoryDeadLetters, scoreBatches, toPost } from '../../src/model/evaluate.js';
import { TopicMask, words, type Term } from '../../src/model/topic-mask.js';
import { buildSentimentTransform } from '../../src/roles/components.js';
import { machine } from '../lib/machine.js';

const { values } = parseArgs({
  options: {
    tiers: { type: 'string', default: 'fast,accurate' },
    entities: { type: 'string', default: '150' },
    data: { type: 'string', default: process.env.CROWDPULSE_DATA ?? resolve('../shared/data') },
    out: { type: 'string', default: 'bench/results' },
  },
});

const CANDIDATES: readonly (string | undefined)[] = [undefined, '@user', 'it', 'this', 'someone', 'X', ''];

/** Calendar words are capitalised but name no topic. */
const CALENDAR = new Set(
  'monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun january february march april june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec'.split(
    ' ',
  ),
);

/** Proper names of the training split: capitalised, not first in the post, in ≥ 90 % of their uses; no calendar words. */
function properNames(texts: readonly string[], limit: number): string[] {
  const capitalised = new Map<string, number>();
  const all = new Map<string, number>();
  for (const text of texts) {
    words(text).forEach((w, i) => {
      if (w.lower.length < 3 || /^\p{N}+$/u.test(w.lower) || w.lower === 'user' || w.lower === 'http') return;
      all.set(w.lower, (all.get(w.lower) ?? 0) + 1);
      const first = text[w.start]!;
      if (i > 0 && first !== first.toLowerCase()) capitalised.set(w.lower, (capitalised.get(w.lower) ?? 0) + 1);
    });
  }
  return [...capitalised]
    .filter(([w, n]) => n >= 20 && n / (all.get(w) ?? n) >= 0.9 && !CALENDAR.has(w))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([w]) => w);
}

const names = properNames(readLabelled(join(values.data, 'train/semeval2013-2016/train_text.txt'), 'tweeteval').texts, Number(values.entities));
const terms: Term[] = names.map((n) => [n]);
const val = readLabelled(join(values.data, 'eval/tweeteval-sentiment/val_text.txt'), 'tweeteval');
const probe = new TopicMask(terms, '\u0001');
const picked = val.texts.flatMap((t, i) => (probe.apply(t) === t ? [] : [i]));
const gold = picked.map((i) => val.labels[i]!);

const m = machine();
const lines: string[] = [
  `# Topic-fair scoring: the placeholder, measured on TweetEval val (${new Date().toISOString().slice(0, 16)} UTC)`,
  '',
  'Command: `node --import tsx bench/topic-mask/placeholder.ts`',
  '',
  `Machine: ${m.cpuModel}, ${m.cores} cores; load average at start ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(' / ')}.`,
  '',
  `Stand-in topics: the ${names.length} most frequent proper names of the training split (capitalised, not first, in ≥ 90 % of ≥ 20 uses; weekdays and months left out), e.g. ${names
    .slice(0, 12)
    .join(', ')}. ${picked.length} of the ${val.texts.length} val posts hold one; every such name in them is masked.`,
  '',
  '| tier | placeholder | macro-recall | accuracy | labels changed vs. unmasked |',
  '| --- | --- | --- | --- | --- |',
];
const config = loadConfig({});
if (!config.ok) throw config.error;
for (const tier of values.tiers.split(',')) {
  const stage = await buildSentimentTransform(
    { ...config.value, model: { ...config.value.model, name: tier, topicFair: false } },
    new CountingMemoryDeadLetters(),
  );
  let unmasked: number[] | undefined;
  try {
    for (const candidate of CANDIDATES) {
      const mask = candidate === undefined ? undefined : new TopicMask(terms, candidate);
      const now = Date.now();
      const posts = picked.map((i, k) => toPost(mask === undefined ? val.texts[i]! : mask.apply(val.texts[i]!) || '.', k, now));
      const scored = await scoreBatches(posts, stage.transform, stage.maxBatch, stage.threads);
      const predicted = posts.map((p) => LABELS.indexOf(scored.get(p.id)!.label));
      unmasked ??= predicted;
      const s = score(gold, predicted);
      const changed = predicted.filter((y, k) => y !== unmasked![k]).length;
      lines.push(
        `| ${stage.modelId} | ${candidate === undefined ? '(not masked)' : candidate === '' ? '(removed)' : `\`${candidate}\``} | ${s.macroRecall.toFixed(4)} | ${s.accuracy.toFixed(4)} | ${changed} (${((100 * changed) / predicted.length).toFixed(1)} %) |`,
      );
      process.stderr.write(`${lines.at(-1)}\n`);
    }
  } finally {
    await stage.transform.close();
  }
}
const file = join(values.out, `topic-mask-placeholder-${new Date().toISOString().slice(0, 10)}.md`);
writeFileSync(file, `${lines.join('\n')}\n`);
process.stdout.write(`${readFileSync(file, 'utf8')}\nwritten to ${file}\n`);
