import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { asCrowdpulseError, CrowdpulseError } from '../errors.js';
import { buildSentimentTransform } from '../roles/components.js';
import { cardMarkdown, runCard } from '../model/card.js';
import { MODELS_ROOT } from '../model/registry.js';
import { BASELINES, baselineScorer, type Baseline } from '../model/baselines.js';
import { DATASET_FORMATS, detectFormat, isOwnFormat, readLabelled, type DatasetFormat, type LabelledSet } from '../model/datasets.js';
import { DEFAULT_LABELS, parseLabelMap } from '../model/own-data.js';
import { ciSubset, formatInvariance, INVARIANCE_DIR, loadSuite, runInvariance, suiteTopicTerms, type InvarianceReport } from '../model/invariance.js';
import { CountingMemoryDeadLetters, evaluateBaseline, evaluateSet, formatResult, type EvalResult } from '../model/evaluate.js';
import { logger } from '../telemetry/log.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';

const FLAGS = [FLAG.model, FLAG.threads, FLAG.maxBatch];

/** crowdpulse eval FILE: accuracy, macro-recall, per-class recall, confusion matrix and posts/s of a model on a labelled file. */
export function evalCommand(): Command {
  const command = new Command('eval')
    .description('score a labelled file through the analyze stage and print accuracy, macro-recall, per-class recall, confusion matrix, posts/s')
    .argument('[file]', `labelled posts: TweetEval *_text.txt (labels file beside it), an eval-only set, or your own .tsv / .csv / .jsonl`)
    .option('--format <format>', `file format (default: from the file name): ${DATASET_FORMATS.join(' | ')}`)
    .option('--text-column <name>', 'own file (tsv, csv, jsonl): the column or key of the post text', 'text')
    .option('--label-column <name>', 'own file: the column or key of the label', 'label')
    .option(
      '--labels <mapping>',
      `own file: the file's labels per class, CLASS=VALUE,VALUE;… with CLASS negative | neutral | positive | skip (rows dropped)`,
      DEFAULT_LABELS,
    )
    .option('--limit <n>', 'score only the first n posts')
    .option('--baseline <name>', `score with a lexicon baseline instead of the model: ${BASELINES.join(' | ')}`)
    .option('--json', 'print the result as one JSON line')
    .option(
      '--card',
      'the model card run: every tier and baseline on every set under $CROWDPULSE_DATA (default ../shared/data), throughput per batch size; prints markdown',
    )
    .option(
      '--invariance',
      'name invariance and negation tests (models/eval/invariance, held out): every template × name × form per tier; label flips, score spread, negation accuracy',
    )
    .option('--subset <subset>', 'with --invariance: full | ci (the seeded CI subset)', 'full')
    .option('--suite <dir>', 'with --invariance: the suite directory', INVARIANCE_DIR)
    .option('--tiers <list>', 'tiers (or model directories) for --card and --invariance', 'fast,accurate')
    .option('--out <file>', 'with --card or --invariance: also write the results as JSON here');
  addConfigFlags(command, FLAGS);
  command.action(async (file: string | undefined) => {
    const o = command.opts<{
      format?: string;
      limit?: string;
      baseline?: string;
      json?: boolean;
      card?: boolean;
      invariance?: boolean;
      subset: string;
      suite: string;
      tiers: string;
      out?: string;
      textColumn: string;
      labelColumn: string;
      labels: string;
    }>();
    const log = logger('eval');
    if (o.format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(o.format))
      throw new CrowdpulseError('CP_USAGE', `--format must be one of ${DATASET_FORMATS.join(', ')}`);
    if (o.baseline !== undefined && !(BASELINES as readonly string[]).includes(o.baseline))
      throw new CrowdpulseError('CP_USAGE', `--baseline must be one of ${BASELINES.join(', ')}`);
    if (o.subset !== 'full' && o.subset !== 'ci') throw new CrowdpulseError('CP_USAGE', '--subset must be full or ci');
    // Own-file options given on the command line (not left at their defaults) make the file an own file.
    const ownFlags = (['textColumn', 'labelColumn', 'labels'] as const).filter((k) => command.getOptionValueSource(k) === 'cli');
    const labelMap = parseLabelMap(o.labels);
    const config = configFrom(command, FLAGS);
    const tiers = o.tiers
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    // A failure is thrown to src/cli.ts: one line, the exit status of its code.
    if (o.invariance) {
      let suite = loadSuite(o.suite);
      if (o.subset === 'ci') suite = ciSubset(suite);
      const reports: InvarianceReport[] = [];
      // Per tier: the model alone, then as served (topic-fair scoring, unless model.topicFair is off).
      const modes = config.model.topicFair ? [false, true] : [false];
      for (const tier of tiers) {
        const deadLetters = new CountingMemoryDeadLetters();
        const stage = await buildSentimentTransform({ ...config, model: { ...config.model, name: tier } }, deadLetters, suiteTopicTerms(suite));
        try {
          for (const topicFair of modes)
            reports.push(
              await runInvariance({ suite, transform: stage.transform, modelId: stage.modelId, batchSize: stage.maxBatch, inFlight: stage.threads, topicFair }),
            );
        } finally {
          await stage.transform.close();
        }
        log.info(`${stage.modelId}: invariance scored (${reports.at(-1)!.posts} posts per mode)`);
      }
      if (o.out) writeFileSync(o.out, `${JSON.stringify(reports, null, 2)}\n`);
      process.stdout.write(o.json ? `${JSON.stringify(reports)}\n` : `${formatInvariance(reports)}\n`);
      process.exit(0);
    }
    // A labelled set has no topics: its posts are scored as written (topic-fair scoring masks nothing).
    const asWritten = { ...config, model: { ...config.model, topicFair: false } };
    if (o.card) {
      const root = process.env.CROWDPULSE_DATA ?? resolve(MODELS_ROOT, '../../shared/data');
      const card = await runCard(
        root,
        tiers,
        async (tier) => {
          const deadLetters = new CountingMemoryDeadLetters();
          const stage = await buildSentimentTransform({ ...asWritten, model: { ...asWritten.model, name: tier } }, deadLetters);
          return { ...stage, deadLetters };
        },
        (line) => log.info(line),
      );
      if (o.out) writeFileSync(o.out, `${JSON.stringify(card, null, 2)}\n`);
      process.stdout.write(`${cardMarkdown(card)}\n`);
      process.exit(0);
    }
    if (file === undefined) throw new CrowdpulseError('CP_USAGE', 'eval needs a FILE (or --card, or --invariance)');
    let set: LabelledSet;
    try {
      const format = (o.format as DatasetFormat | undefined) ?? detectFormat(file, ownFlags.length > 0);
      if (ownFlags.length > 0 && !isOwnFormat(format))
        throw new CrowdpulseError('CP_USAGE', `--text-column, --label-column and --labels are for own files (tsv, csv, jsonl), not --format ${format}`);
      set = readLabelled(file, format, { textColumn: o.textColumn, labelColumn: o.labelColumn, labels: labelMap });
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
      const stage = await buildSentimentTransform(asWritten, deadLetters);
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
