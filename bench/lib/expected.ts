/**
 * What the store must hold after replaying the first N posts of a recorded fixture, computed
 * independently of the pipeline's own parsing: the fixture manifest says which lines were planted
 * bad, and the rest are plain JSON whose rule tags name the topics. A duplicate line (same post id)
 * is stored once. Checked against the manifest's totals when the whole file is read.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface FixtureManifest {
  readonly lines: number;
  readonly posts: number;
  readonly rowsPerTopic: Record<string, number>;
  readonly duplicateLines: number;
  readonly deadLettersByCode: Record<string, number>;
  readonly planted: readonly { readonly line: number; readonly code: string }[];
}

export interface Expected {
  /** Lines to replay (the replay source's --limit): up to and including the line of the Nth distinct post. */
  readonly lines: number;
  /** Distinct valid posts in those lines (= N). */
  readonly posts: number;
  /** Lines that repeat an earlier post. */
  readonly duplicateLines: number;
  /** (post, topic) rows per topic the store must hold. */
  readonly rowsPerTopic: Record<string, number>;
  /** Dead letters by reason code the planted lines must produce. */
  readonly deadLettersByCode: Record<string, number>;
  /** The ids and texts of the N posts, in replay order (lag per post; the side-by-side analysers). */
  readonly ids: readonly string[];
  readonly texts: readonly string[];
}

export const UNTAGGED = '_untagged';

export function manifestPathOf(fixture: string): string {
  return fixture.replace(/\.ndjson(\.gz)?$/, '.manifest.json');
}

export function readFixtureLines(path: string): Buffer[] {
  const raw = readFileSync(path);
  const body = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = body.indexOf(0x0a); nl !== -1; nl = body.indexOf(0x0a, start)) {
    lines.push(body.subarray(start, nl));
    start = nl + 1;
  }
  if (start < body.length) lines.push(body.subarray(start));
  return lines;
}

/** Expected contents for the first `posts` distinct posts of `fixture` (all of them when posts ≤ 0). */
export function expectedFor(fixture: string, posts: number): Expected {
  const manifest = JSON.parse(readFileSync(manifestPathOf(fixture), 'utf8')) as FixtureManifest;
  const planted = new Map(manifest.planted.map((p) => [p.line, p.code]));
  const lines = readFixtureLines(fixture);
  const want = posts > 0 ? posts : manifest.posts;
  if (want > manifest.posts)
    throw new Error(`${fixture} holds ${manifest.posts} posts; ${want} were asked for (generate more with npm run fixtures -- --posts ${want})`);
  const seen = new Set<string>();
  const rowsPerTopic: Record<string, number> = {};
  const deadLettersByCode: Record<string, number> = {};
  const texts: string[] = [];
  const ids: string[] = [];
  let duplicateLines = 0;
  let lineNo = 0;
  for (const bytes of lines) {
    if (seen.size >= want) break;
    lineNo += 1;
    if (bytes.length === 0) continue;
    const code = planted.get(lineNo);
    if (code !== undefined) {
      deadLettersByCode[code] = (deadLettersByCode[code] ?? 0) + 1;
      continue;
    }
    const message = JSON.parse(bytes.toString('utf8')) as { data: { id: string; text: string }; matching_rules?: { tag?: string }[] };
    if (seen.has(message.data.id)) {
      duplicateLines += 1;
      continue;
    }
    seen.add(message.data.id);
    ids.push(message.data.id);
    texts.push(message.data.text);
    const tags = new Set((message.matching_rules ?? []).map((r) => r.tag ?? ''));
    if (tags.size === 0) tags.add(UNTAGGED);
    for (const t of tags) rowsPerTopic[t] = (rowsPerTopic[t] ?? 0) + 1;
  }
  if (seen.size < want) throw new Error(`${fixture}: found ${seen.size} posts, wanted ${want}`);
  const expected: Expected = { lines: lineNo, posts: seen.size, duplicateLines, rowsPerTopic, deadLettersByCode, ids, texts };
  if (want === manifest.posts) checkAgainstManifest(expected, manifest, fixture);
  return expected;
}

function checkAgainstManifest(e: Expected, m: FixtureManifest, fixture: string): void {
  const same = (a: Record<string, number>, b: Record<string, number>): boolean =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  if (!same(e.rowsPerTopic, m.rowsPerTopic) || e.duplicateLines !== m.duplicateLines || !same(e.deadLettersByCode, m.deadLettersByCode)) {
    throw new Error(
      `${fixture}: recount disagrees with ${manifestPathOf(fixture)} (rows ${JSON.stringify(e.rowsPerTopic)} vs ${JSON.stringify(m.rowsPerTopic)})`,
    );
  }
}
