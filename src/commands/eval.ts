import { Command } from 'commander';
import { buildSentimentTransform } from '../roles/components.js';
import { BASELINES, baselineScorer, type Baseline } from '../model/baselines.js';
import { DATASET_FORMATS, readLabelled, type DatasetFormat } from '../model/datasets.js';
import { CountingMemoryDeadLetters, evaluateBaseline, evaluateSet, formatResult, type EvalResult } from '../model/evaluate.js';
import { logger } from '../telemetry/log.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';

const FLAGS = [FLAG.model, FLAG.threads, FLAG.maxBatch];

/** crowdpulse eval FILE: accuracy, macro-recall, per-class recall, confusion matrix and posts/s of a model on a labelled file. */
export function evalCommand(): Command {
  const command = new Command('eval')
    .description('score a labelled file through the analyze stage and print accuracy, macro-recall, per-class recall, confusion matrix, posts/s')
    .argument('<file>', `labelled posts: TweetEval *_text.txt (labels file beside it), or an eval-only set (${DATASET_FORMATS.join(', ')})`)
    .option('--format <format>', `file format (default: from the file name): ${DATASET_FORMATS.join(' | ')}`)
    .option('--limit <n>', 'score only the first n posts')
    .option('--baseline <name>', `score with a lexicon baseline instead of the model: ${BASELINES.join(' | ')}`)
    .option('--json', 'print the result as one JSON line');
  addConfigFlags(command, FLAGS);
  command.action(async (file: string) => {
    const o = command.opts<{ format?: string; limit?: string; baseline?: string; json?: boolean }>();
    const log = logger('eval');
    if (o.format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(o.format)) {
      process.stderr.write(`--format must be one of ${DATASET_FORMATS.join(', ')}\n`);
      process.exit(2);
    }
    if (o.baseline !== undefined && !(BASELINES as readonly string[]).includes(o.baseline)) {
      process.stderr.write(`--baseline must be one of ${BASELINES.join(', ')}\n`);
      process.exit(2);
    }
    const config = configFrom(command, FLAGS);
    try {
      let set = readLabelled(file, o.format as DatasetFormat | undefined);
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
          result = await evaluateSet({ set, transform: stage.transform, modelId: stage.modelId, batchSize: stage.maxBatch, inFlight: stage.threads, deadLetters });
        } finally {
          await stage.transform.close();
        }
      }
      process.stdout.write(o.json ? `${JSON.stringify({ file, ...result })}\n` : `${formatResult(result)}\n`);
      process.exit(0);
    } catch (e) {
      log.error((e as Error).message);
      process.exit(1);
    }
  });
  return command;
}
