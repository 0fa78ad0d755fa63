/**
 * The X API emulator as the source (`crowdpulse emulate` serving the fixture, crowdpulse's real X
 * client following its filtered stream). The emulator ignores recorded matching_rules and computes
 * them from the current rules, and sends only posts that match a rule; so what the store must hold
 * is computed here with the emulator's own rule matcher over the same recording and rules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecorded } from '../../src/emulator/recorded-posts.js';
import { matches, parseRule } from '../../src/x/rule-language.js';
import { loadRulesFile } from '../../src/x/rules.js';
import { REPO } from './child.js';
import { manifestPathOf, readFixtureLines, type Expected, type FixtureManifest } from './expected.js';

export const RULES_FILE = 'rules.example.yaml';
export const BENCH_TOKEN = 'crowdpulse-bench-token';

export interface EmulatedExpected extends Expected {
  /** Posts the emulator must load (its --limit) so that N distinct matching posts are served. */
  readonly emulatorLimit: number;
}

/** The recording holds fewer distinct posts matching the rules than a run asks for. */
export class TooFewMatchingPosts extends Error {
  constructor(
    readonly fixture: string,
    /** Distinct posts that match, of `loaded` posts in the recording. */
    readonly matching: number,
    readonly loaded: number,
    readonly asked: number,
    rulesFile: string,
  ) {
    super(`${fixture}: only ${matching} posts match the rules of ${rulesFile}; ${asked} asked for`);
  }
}

export function expectedFromEmulator(fixture: string, posts: number, rulesFile = RULES_FILE): EmulatedExpected {
  const rules = loadRulesFile(join(REPO, rulesFile));
  if (!rules.ok) throw rules.error;
  const compiled = rules.value.map((r) => {
    const node = parseRule(r.value);
    if (!node.ok) throw new Error(`${rulesFile}: rule "${r.value}": ${node.error}`);
    return { node: node.value, tag: r.tag };
  });
  const manifest = JSON.parse(readFileSync(join(REPO, manifestPathOf(fixture)), 'utf8')) as FixtureManifest;
  const planted = new Set(manifest.planted.map((p) => p.line));
  const seen = new Set<string>();
  const rowsPerTopic: Record<string, number> = {};
  const ids: string[] = [];
  const texts: string[] = [];
  let loaded = 0;
  let duplicateLines = 0;
  let lineNo = 0;
  for (const bytes of readFixtureLines(join(REPO, fixture))) {
    if (seen.size >= posts) break;
    lineNo += 1;
    const line = bytes.toString('utf8');
    if (line.trim() === '') continue;
    const post = parseRecorded(line);
    if (!post) continue;
    loaded += 1;
    const tags = new Set<string>();
    for (const r of compiled) if (matches(r.node, post.features)) tags.add(r.tag ?? '');
    if (tags.size === 0) continue;
    if (planted.has(lineNo)) throw new Error(`${fixture}:${lineNo} is a planted bad line that matches a rule; its fate would be ambiguous`);
    const id = String(post.data.id);
    if (seen.has(id)) {
      duplicateLines += 1;
      continue;
    }
    seen.add(id);
    ids.push(id);
    texts.push(String(post.data.text));
    for (const t of tags) rowsPerTopic[t] = (rowsPerTopic[t] ?? 0) + 1;
  }
  if (seen.size < posts) throw new TooFewMatchingPosts(fixture, seen.size, loaded, posts, rulesFile);
  return { lines: lineNo, posts: seen.size, duplicateLines, rowsPerTopic, deadLettersByCode: {}, ids, texts, emulatorLimit: loaded };
}
