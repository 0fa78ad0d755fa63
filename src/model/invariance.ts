/**
 * Name invariance and negation tests (issue #17; CheckList, Ribeiro et al. 2020: INV and MFT
 * tests). crowdpulse reports the mood about a topic, so the topic's own name must not move a
 * post's score: every template of models/eval/invariance/ is filled with every name, in each of
 * its forms (plain word, #hashtag, @handle, $cashtag for brands and coins), scored through the
 * analyze stage's own transform, and the spread of the scores and labels across names measured.
 * The negation and contrast posts have an expected label each.
 *
 * The suite is held out: it measures a model and must never train, tune or select one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LABELS, type Label, type Post, type ScoredPost } from '../contract/index.js';
import type { Transform } from '../pipeline/component.js';
import { CrowdpulseError } from '../errors.js';
import { MODELS_ROOT } from './registry.js';
import { scoreBatches, toPost } from './evaluate.js';
import { mulberry32 } from './prng.js';
import { TopicTerms } from './topic-terms.js';
import { termOf, type Term } from './topic-mask.js';

export const INVARIANCE_DIR = join(MODELS_ROOT, 'eval/invariance');

export const FORMS = ['plain', 'hashtag', 'handle', 'cashtag'] as const;
export type Form = (typeof FORMS)[number];

const label = z.enum(LABELS);
const templatesFile = z.object({
  templates: z
    .array(z.object({ id: z.string().min(1), label, text: z.string().refine((t) => t.split('{name}').length === 2, 'must hold {name} exactly once') }))
    .min(1),
});
const namesFile = z.object({
  names: z
    .array(
      z.object({
        name: z.string().min(1),
        kind: z.string().min(1),
        hashtag: z.string().regex(/^\w+$/u),
        handle: z.string().regex(/^\w+$/),
        cashtag: z
          .string()
          .regex(/^[A-Z]+$/)
          .optional(),
      }),
    )
    .min(2),
});
const negationFile = z.object({ items: z.array(z.object({ id: z.string().min(1), kind: z.string().min(1), expected: label, text: z.string().min(1) })) });
const suiteFile = z.object({
  version: z.literal(1),
  ciSubset: z.object({ seed: z.number().int(), templatesPerLabel: z.number().int().positive(), namesPerKind: z.number().int().positive() }),
});

export type Template = z.infer<typeof templatesFile>['templates'][number];
export type Name = z.infer<typeof namesFile>['names'][number];
export type NegationItem = z.infer<typeof negationFile>['items'][number];

export interface Suite {
  readonly dir: string;
  readonly subset: 'full' | 'ci';
  readonly templates: readonly Template[];
  readonly names: readonly Name[];
  readonly negation: readonly NegationItem[];
  readonly ci: z.infer<typeof suiteFile>['ciSubset'];
}

function readJson<T>(dir: string, file: string, schema: z.ZodType<T>): T {
  const path = join(dir, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CrowdpulseError('CP_DATASET_INVALID', `${path}: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CrowdpulseError('CP_DATASET_INVALID', `${path}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

export function loadSuite(dir: string = INVARIANCE_DIR): Suite {
  const suite = readJson(dir, 'suite.json', suiteFile);
  return {
    dir,
    subset: 'full',
    templates: readJson(dir, 'templates.json', templatesFile).templates,
    names: readJson(dir, 'names.json', namesFile).names,
    negation: readJson(dir, 'negation.json', negationFile).items,
    ci: suite.ciSubset,
  };
}

function pick<T>(items: readonly T[], k: number, random: () => number): Set<T> {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return new Set(a.slice(0, k));
}

/** The CI subset: `templatesPerLabel` templates of each label and `namesPerKind` names of each kind, seeded; the negation items all. */
export function ciSubset(suite: Suite): Suite {
  const random = mulberry32(suite.ci.seed);
  const templates = new Set<Template>();
  for (const l of LABELS)
    for (const t of pick(
      suite.templates.filter((x) => x.label === l),
      suite.ci.templatesPerLabel,
      random,
    ))
      templates.add(t);
  const names = new Set<Name>();
  for (const kind of new Set(suite.names.map((n) => n.kind)))
    for (const n of pick(
      suite.names.filter((x) => x.kind === kind),
      suite.ci.namesPerKind,
      random,
    ))
      names.add(n);
  return { ...suite, subset: 'ci', templates: suite.templates.filter((t) => templates.has(t)), names: suite.names.filter((n) => names.has(n)) };
}

/** The name as written in `form`, or undefined where the form does not fit the name (cashtags: brands and coins). */
export function surface(name: Name, form: Form): string | undefined {
  switch (form) {
    case 'plain':
      return name.name;
    case 'hashtag':
      return `#${name.hashtag}`;
    case 'handle':
      return `@${name.handle}`;
    case 'cashtag':
      return name.cashtag === undefined ? undefined : `$${name.cashtag}`;
  }
}

export interface Variant {
  readonly template: Template;
  readonly name: Name;
  readonly form: Form;
  readonly text: string;
}

/** Every template × name × form that fits, template by template. */
export function expand(suite: Pick<Suite, 'templates' | 'names'>): Variant[] {
  const out: Variant[] = [];
  for (const template of suite.templates)
    for (const name of suite.names)
      for (const form of FORMS) {
        const s = surface(name, form);
        if (s !== undefined) out.push({ template, name, form, text: template.text.replace('{name}', s) });
      }
  return out;
}

export interface Outcome {
  readonly label: Label;
  /** P(pos) − P(neg), the stored score. */
  readonly score: number;
}

/** Invariance over a family of groups (each group: one template's posts that must agree). */
export interface Invariance {
  readonly groups: number;
  /** Share of groups whose posts do not all get the same label. */
  readonly flipRate: number;
  /** Share of posts whose label is not their group's majority label. */
  readonly pairFlipRate: number;
  /** max − min score within a group, averaged over the groups. */
  readonly meanSpread: number;
  readonly maxSpread: number;
}

export interface WorstTemplate {
  readonly id: string;
  readonly text: string;
  readonly label: Label;
  readonly spread: number;
  readonly labels: Record<Label, number>;
  readonly lowest: { readonly text: string; readonly score: number; readonly label: Label };
  readonly highest: { readonly text: string; readonly score: number; readonly label: Label };
}

export interface NegationResult {
  readonly n: number;
  readonly accuracy: number;
  readonly byKind: Record<string, { n: number; correct: number; accuracy: number }>;
  readonly failures: Array<{ id: string; text: string; expected: Label; got: Label; score: number }>;
}

export interface InvarianceReport {
  readonly model: string;
  /**
   * Scored as served with topic-fair scoring (each post's topic is its name, tracked by a rule of the
   * name in every form, src/model/topic-mask.ts), or false: the model alone, on the text as written.
   */
  readonly topicFair: boolean;
  readonly subset: 'full' | 'ci';
  readonly templates: number;
  readonly names: number;
  readonly posts: number;
  /** One group per template, over every name and form. */
  readonly overall: Invariance;
  /** Share of posts whose label is the template's own label. */
  readonly templateAgreement: number;
  /** One group per (template, form). */
  readonly byForm: Record<string, Invariance>;
  /** One group per (template, kind): the names of one kind in every form. */
  readonly byKind: Record<string, Invariance>;
  /** The headline numbers over the templates of each label. */
  readonly byTemplateLabel: Record<string, Invariance>;
  readonly worst: WorstTemplate[];
  readonly negation: NegationResult;
}

interface Member {
  readonly variant: Variant;
  readonly outcome: Outcome;
}

/** Majority label (ties: the earlier of negative, neutral, positive). */
function majority(members: readonly Member[]): Label {
  const counts = LABELS.map((l) => members.filter((m) => m.outcome.label === l).length);
  return LABELS[counts.indexOf(Math.max(...counts))]!;
}

function spreadOf(members: readonly Member[]): number {
  const scores = members.map((m) => m.outcome.score);
  return Math.max(...scores) - Math.min(...scores);
}

/** Groups with fewer than two posts say nothing about invariance and are left out. */
export function invariance(groups: ReadonlyArray<readonly Member[]>): Invariance {
  const real = groups.filter((g) => g.length >= 2);
  let flipped = 0;
  let off = 0;
  let posts = 0;
  let spreadSum = 0;
  let maxSpread = 0;
  for (const g of real) {
    const m = majority(g);
    const o = g.filter((x) => x.outcome.label !== m).length;
    if (o > 0) flipped++;
    off += o;
    posts += g.length;
    const s = spreadOf(g);
    spreadSum += s;
    maxSpread = Math.max(maxSpread, s);
  }
  const n = real.length;
  return { groups: n, flipRate: n ? flipped / n : 0, pairFlipRate: posts ? off / posts : 0, meanSpread: n ? spreadSum / n : 0, maxSpread };
}

function groupBy<K>(members: readonly Member[], key: (m: Member) => K): Member[][] {
  const map = new Map<K, Member[]>();
  for (const m of members) {
    const k = key(m);
    const g = map.get(k);
    if (g) g.push(m);
    else map.set(k, [m]);
  }
  return [...map.values()];
}

/** The report from the scored posts (pure: the tests feed it made-up outcomes). */
export function summarise(
  model: string,
  suite: Suite,
  variants: readonly Variant[],
  outcomes: readonly Outcome[],
  negation: readonly Outcome[],
  worstN = 5,
  topicFair = false,
): InvarianceReport {
  const members: Member[] = variants.map((variant, i) => ({ variant, outcome: outcomes[i]! }));
  const byTemplate = groupBy(members, (m) => m.variant.template.id);
  const sub = (filter: (m: Member) => boolean, key: (m: Member) => string): Record<string, Invariance> => {
    const keys = [...new Set(members.filter(filter).map(key))];
    return Object.fromEntries(
      keys.map((k) => [
        k,
        invariance(
          groupBy(
            members.filter((m) => filter(m) && key(m) === k),
            (m) => m.variant.template.id,
          ),
        ),
      ]),
    );
  };
  const worst = byTemplate
    .map((g): WorstTemplate => {
      const sorted = [...g].sort((a, b) => a.outcome.score - b.outcome.score);
      const lo = sorted[0]!;
      const hi = sorted.at(-1)!;
      const t = g[0]!.variant.template;
      return {
        id: t.id,
        text: t.text,
        label: t.label,
        spread: hi.outcome.score - lo.outcome.score,
        labels: Object.fromEntries(LABELS.map((l) => [l, g.filter((m) => m.outcome.label === l).length])) as Record<Label, number>,
        lowest: { text: lo.variant.text, score: lo.outcome.score, label: lo.outcome.label },
        highest: { text: hi.variant.text, score: hi.outcome.score, label: hi.outcome.label },
      };
    })
    .sort((a, b) => b.spread - a.spread)
    .slice(0, worstN);
  return {
    model,
    topicFair,
    subset: suite.subset,
    templates: suite.templates.length,
    names: suite.names.length,
    posts: members.length,
    overall: invariance(byTemplate),
    templateAgreement: members.length ? members.filter((m) => m.outcome.label === m.variant.template.label).length / members.length : 0,
    byForm: sub(
      () => true,
      (m) => m.variant.form,
    ),
    byKind: sub(
      () => true,
      (m) => m.variant.name.kind,
    ),
    byTemplateLabel: sub(
      () => true,
      (m) => m.variant.template.label,
    ),
    worst,
    negation: negationResult(suite.negation, negation),
  };
}

export function negationResult(items: readonly NegationItem[], outcomes: readonly Outcome[]): NegationResult {
  const byKind: NegationResult['byKind'] = {};
  const failures: NegationResult['failures'] = [];
  let correct = 0;
  items.forEach((item, i) => {
    const o = outcomes[i]!;
    const k = (byKind[item.kind] ??= { n: 0, correct: 0, accuracy: 0 });
    k.n++;
    if (o.label === item.expected) {
      k.correct++;
      correct++;
    } else failures.push({ id: item.id, text: item.text, expected: item.expected, got: o.label, score: o.score });
  });
  for (const k of Object.values(byKind)) k.accuracy = k.correct / k.n;
  return { n: items.length, accuracy: items.length ? correct / items.length : 0, byKind, failures };
}

/**
 * The topic-fair scoring a user tracking the suite's names would get: each name is a topic (its
 * tag is the name), tracked by a rule of the name in every form (plain, #hashtag, @handle, $cashtag).
 */
export function suiteTopicTerms(suite: Pick<Suite, 'names'>): TopicTerms {
  return new TopicTerms(
    new Map(
      suite.names.map((n): [string, Term[]] => [
        n.name,
        FORMS.flatMap((form) => {
          const s = surface(n, form);
          return s === undefined ? [] : [termOf(s)];
        }),
      ]),
    ),
  );
}

/** Topic of the posts scored as the model alone: no name of the suite, so nothing is masked. */
const NO_TOPIC = 'eval';

/**
 * Scores the suite through `transform` (the analyze stage's SentimentTransform) in the order of
 * `expand`, batches of `batchSize`, `inFlight` at a time, then the negation items. With `topicFair`
 * each post is in its name's topic (the transform masks by suiteTopicTerms); without, in none.
 */
export async function runInvariance(opts: {
  readonly suite: Suite;
  readonly transform: Transform<Post, ScoredPost>;
  readonly modelId: string;
  readonly batchSize: number;
  readonly inFlight: number;
  readonly topicFair: boolean;
}): Promise<InvarianceReport> {
  const { suite } = opts;
  const variants = expand(suite);
  // The negation items run as batches of their own, so their results do not depend on the subset.
  return summarise(
    opts.modelId,
    suite,
    variants,
    await outcomesOf(
      variants.map((v) => ({ text: v.text, topic: opts.topicFair ? v.name.name : NO_TOPIC })),
      opts,
    ),
    await outcomesOf(
      suite.negation.map((x) => ({ text: x.text, topic: NO_TOPIC })),
      opts,
    ),
    5,
    opts.topicFair,
  );
}

async function outcomesOf(
  items: readonly { readonly text: string; readonly topic: string }[],
  opts: { readonly transform: Transform<Post, ScoredPost>; readonly modelId: string; readonly batchSize: number; readonly inFlight: number },
): Promise<Outcome[]> {
  const now = Date.now();
  const posts = items.map((item, i) => ({ ...toPost(item.text, i, now), topics: [item.topic] }));
  const scored = await scoreBatches(posts, opts.transform, opts.batchSize, opts.inFlight);
  return posts.map((p) => {
    const s = scored.get(p.id);
    if (s === undefined) throw new CrowdpulseError('CP_STAGE_FAILED', `model ${opts.modelId} did not score "${p.text}" (dead-lettered by the analyze stage)`);
    return { label: s.label, score: s.score };
  });
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const f3 = (x: number): string => x.toFixed(3);

function row(name: string, v: Invariance, w: number): string {
  return `    ${name.padEnd(w)}  flips ${pct(v.flipRate).padStart(6)} of ${String(v.groups).padStart(2)}   off-majority ${pct(v.pairFlipRate).padStart(6)}   spread mean ${f3(v.meanSpread)} max ${f3(v.maxSpread)}`;
}

export function formatInvariance(reports: readonly InvarianceReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    const o = r.overall;
    out.push(
      `${r.model}, ${r.topicFair ? 'as served (topic-fair: the name masked)' : 'the model alone (text as written)'}: ${r.subset === 'ci' ? 'CI subset, ' : ''}${r.templates} templates × ${r.names} names (${r.posts} posts in ${Object.keys(r.byForm).join(', ')} forms)`,
      `  label flips    ${pct(o.flipRate)} of templates (${Math.round(o.flipRate * o.groups)} of ${o.groups}) do not get one label for every name; ${pct(o.pairFlipRate)} of (template, name) posts differ from their template's majority`,
      `  score spread   mean ${f3(o.meanSpread)}, max ${f3(o.maxSpread)} (max − min score over a template's names, −1..1)`,
      `  agreement      ${pct(r.templateAgreement)} of posts get their template's own label`,
    );
    const w = Math.max(...[...Object.keys(r.byForm), ...Object.keys(r.byKind), ...Object.keys(r.byTemplateLabel)].map((k) => k.length));
    out.push('  by form (one group per template and form)');
    for (const [k, v] of Object.entries(r.byForm)) out.push(row(k, v, w));
    out.push('  by kind (one group per template and kind of name)');
    for (const [k, v] of Object.entries(r.byKind)) out.push(row(k, v, w));
    out.push("  by template's label");
    for (const [k, v] of Object.entries(r.byTemplateLabel)) out.push(row(k, v, w));
    out.push('  worst templates (largest spread)');
    for (const t of r.worst)
      out.push(
        `    ${t.id} ${f3(t.spread)} (${t.label}; ${LABELS.map((l) => `${l} ${t.labels[l]}`).join(', ')})  ${JSON.stringify(t.text)}`,
        `      lowest  ${f3(t.lowest.score).padStart(6)} ${t.lowest.label.padEnd(8)} ${JSON.stringify(t.lowest.text)}`,
        `      highest ${f3(t.highest.score).padStart(6)} ${t.highest.label.padEnd(8)} ${JSON.stringify(t.highest.text)}`,
      );
    const g = r.negation;
    out.push(
      `  negation and contrast  ${pct(g.accuracy)} right (${g.n - g.failures.length} of ${g.n}): ${Object.entries(g.byKind)
        .map(([k, v]) => `${k} ${v.correct}/${v.n}`)
        .join(', ')}`,
    );
    for (const x of g.failures) out.push(`    ${x.id}: expected ${x.expected}, got ${x.got} (${f3(x.score)})  ${JSON.stringify(x.text)}`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}
