import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { asCrowdpulseError, CrowdpulseError } from '../errors.js';
import { buildSentimentTransform } from '../roles/components.js';
import { cardMarkdown, runCard } from '../model/card.js';
import { MODELS_ROOT } from '../model/registry.js';
import { BASELINES, baselineScorer, type Baseline } from '../model/baselines.js';
import { DATASET_FORMATS, readLabelled, type DatasetFormat, type LabelledSet } from '../model/datasets.js';
import { CountingMemoryDeadLetters, evaluateBaseline, evaluateSet, formatResult, type EvalResult } from '../model/evaluate.js';
import { logger } from '../telemetry/log.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';

const FLAGS = [FLAG.model, FLAG.threads, FLAG.maxBatch];

/** crowdpulse eval FILE: accuracy, macro-recall, per-class recall, confusion matrix and posts/s of a model on a labelled file. */
export function evalCommand(): Command {
  const command = new Command('eval')
    .description('score a labelled file through the analyze stage and print accuracy, macro-recall, per-class recall, confusion matrix, posts/s')
    .argument('[file]', `labelled posts: TweetEval *_text.txt (labels file beside it), or an eval-only set (${DATASET_FORMATS.join(', ')})`)
    .option('--format <format>', `file format (default: from the file name): ${DATASET_FORMATS.join(' | ')}`)
    .option('--limit <n>', 'score only the first n posts')
    .option('--baseline <name>', `score with a lexicon baseline instead of the model: ${BASELINES.join(' | ')}`)
    .option('--json', 'print the result as one JSON line')
    .option(
      '--card',
      'the model card run: every tier and baseline on every set under $CROWDPULSE_DATA (default ../shared/data), throughput per batch size; prints markdown',
    )
    .option('--tiers <list>', 'tiers for --card', 'fast,accurate')
    .option('--out <file>', 'with --card: also write the results as JSON here');
  addConfigFlags(command, FLAGS);
  command.action(async (file: string | undefined) => {
    const o = command.opts<{ format?: string; limit?: string; baseline?: string; json?: boolean; card?: boolean; tiers: string; out?: string }>();
    const log = logger('eval');
    if (o.format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(o.format))
      throw new CrowdpulseError('CP_USAGE', `--format must be one of ${DATASET_FORMATS.join(', ')}`);
    if (o.baseline !== undefined && !(BASELINES as readonly string[]).includes(o.baseline))
      throw new CrowdpulseError('CP_USAGE', `--baseline must be one of ${BASELINES.join(', ')}`);
    const config = configFrom(command, FLAGS);
    // A failure is thrown to src/cli.ts: one line, the exit status of its code.
    if (o.card) {
      const root = process.env.CROWDPULSE_DATA ?? resolve(MODELS_ROOT, '../../shared/data');
      const card = await runCard(
        root,
        o.tiers
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        async (tier) => {
          const deadLetters = new CountingMemoryDeadLetters();
          const stage = await buildSentimentTransform({ ...config, model: { ...config.model, name: tier } }, deadLetters);
          return { ...stage, deadLetters };
        },
        (line) => log.info(line),
      );
      if (o.out) writeFileSync(o.out, `${JSON.stringify(card, null, 2)}\n`);
      process.stdout.write(`${cardMarkdown(card)}\n`);
      process.exit(0);
    }
    if (file === undefined) throw new CrowdpulseError('CP_USAGE', 'eval needs a FILE (or --card)');
    let set: LabelledSet;
    try {
      set = readLabelled(file, o.format as DatasetFormat | undefined);
    } catch (e) {
      throw asCrowdpulseError(e, 'CP_DATASET_INVALID');
    }
    if (o.limit !== undefined) {
      const n = Number(o.limit);
      set = { ...set, texts: set.texts.slice(0, n), labels: set.labels.slice(0, n) };
    }
    let result: EvalResult;
    if (o.baseline !== undefined) {
      result = evaluateBaseline(set, o.baseline, baselineScorer(o.baseline as Baseline));
    } else {
      const deadLetters = new CountingMemoryDeadLetters();
      const stage = await buildSentimentTransform(config, deadLetters);
      try {
        result = await evaluateSet({
          set,
          transform: stage.transform,
          modelId: stage.modelId,
          batchSize: stage.maxBatch,
          inFlight: stage.threads,
          deadLetters,
        });
      } finally {
        await stage.transform.close();
      }
    }
    process.stdout.write(o.json ? `${JSON.stringify({ file, ...result })}\n` : `${formatResult(result)}\n`);
    process.exit(0);
  });
  return command;
}
