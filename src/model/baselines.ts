/**
 * Lexicon baselines of the model card, through their npm packages, with their usual thresholds:
 *  - VADER (vader-sentiment): compound ≥ 0.05 positive, ≤ −0.05 negative, else neutral.
 *  - AFINN (sentiment): score > 0 positive, < 0 negative, else neutral.
 * They see the raw post text (both handle their own punctuation and emoticons).
 */
import Sentiment from 'sentiment';
import vader from 'vader-sentiment';

export const BASELINES = ['vader', 'afinn'] as const;
export type Baseline = (typeof BASELINES)[number];

export function baselineScorer(kind: Baseline): (text: string) => number {
  switch (kind) {
    case 'vader':
      return (text) => {
        const { compound } = vader.SentimentIntensityAnalyzer.polarity_scores(text);
        return compound >= 0.05 ? 2 : compound <= -0.05 ? 0 : 1;
      };
    case 'afinn': {
      const afinn = new Sentiment();
      return (text) => {
        const s = afinn.analyze(text).score;
        return s > 0 ? 2 : s < 0 ? 0 : 1;
      };
    }
  }
}
