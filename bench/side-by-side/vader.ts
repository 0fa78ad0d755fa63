/**
 * VADER lexicon scoring of the same posts (npm vader-sentiment), one at a time on the main thread.
 *   node --import tsx bench/side-by-side/vader.ts --posts 20000
 * Prints {posts, seconds, postsPerSecond, extra} as JSON.
 */
import vader from 'vader-sentiment';
import { analyserArgs, printResult, progressPrinter } from './common.js';

const { texts } = analyserArgs();
const progress = progressPrinter();
const labels = { negative: 0, neutral: 0, positive: 0 };
const started = performance.now();
for (let i = 0; i < texts.length; i++) {
  const { compound } = vader.SentimentIntensityAnalyzer.polarity_scores(texts[i] as string);
  // VADER's own thresholds: compound ≥ 0.05 positive, ≤ −0.05 negative.
  labels[compound >= 0.05 ? 'positive' : compound <= -0.05 ? 'negative' : 'neutral'] += 1;
  if ((i & 255) === 0) progress(i);
}
const seconds = (performance.now() - started) / 1000;
printResult(texts.length, seconds, { labels });
