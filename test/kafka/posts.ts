import { type Post, type ScoredPost, scoredPostOf } from '../../src/contract/index.js';

/** Distinct valid posts (contract v1) for transport tests. */
export function makePosts(n: number, start = 0): Post[] {
  const topics = ['crypto', 'markets', 'sports', 'climate'];
  return Array.from({ length: n }, (_, i) => {
    const k = start + i;
    return {
      id: String(1_900_000_000_000_000_000n + BigInt(k)),
      text: `post number ${k} about ${topics[k % topics.length]} ${'x'.repeat(k % 50)}`,
      createdAt: new Date(Date.UTC(2026, 10, 1) + k * 1000).toISOString(),
      lang: k % 10 === 0 ? 'es' : 'en',
      topics: k % 7 === 0 ? [topics[k % 4]!, topics[(k + 1) % 4]!] : [topics[k % 4]!],
      ingestedAt: Date.UTC(2026, 10, 1) + k * 1000 + 5,
    };
  });
}

/** One line of a replay file: an X API v2 filtered-stream message. */
export function streamLine(id: string, text: string, tag = 'topic'): string {
  return JSON.stringify({ data: { id, text, created_at: '2026-11-03T06:00:00.000Z', lang: 'en' }, matching_rules: [{ id: '1', tag }] });
}

/** Distinct valid scored posts (contract v1), as analyze produces them. */
export function makeScoredPosts(n: number, start = 0): ScoredPost[] {
  return makePosts(n, start).map((p, i) => {
    const probs = { neg: 0.1 + (i % 100) / 1000, neu: 0.3, pos: 0.6 - (i % 100) / 1000 };
    return scoredPostOf(p, probs, { model: 'm1', flags: [], analyzedAt: p.ingestedAt + 7 });
  });
}
