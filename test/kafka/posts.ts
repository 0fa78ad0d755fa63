import type { Post } from '../../src/contract/index.js';

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
