import type { Random } from './random.js';

/**
 * Scores like a 3-class model's P(pos) − P(neg): each post gets a label from a mix of shares, then
 * a score near −0.8 / 0 / +0.8 (normal, sd `SPREAD`) clipped to [−1, 1]. With the bench's mixes
 * (negative and positive shares 0.25–0.4 each) the per-post sd is 0.59–0.72 (measured), as on real posts.
 * A planted shift moves share towards one pole, half of it from the other pole and half from the
 * neutral label, by exactly the amount that moves the expected (clipped) mean by the shift size.
 */
export interface Mix {
  readonly negative: number;
  readonly neutral: number;
  readonly positive: number;
}

const CENTRES = { negative: -0.8, neutral: 0, positive: 0.8 } as const;
export const SPREAD = 0.25;

/** E[clip(X, −1, 1)] and E[clip(X, −1, 1)²] for X ~ N(mu, sd²), by Simpson's rule over ±8 sd. */
export function clippedMoments(mu: number, sd: number): { mean: number; meanSquare: number } {
  const steps = 4000;
  const lo = mu - 8 * sd;
  const h = (16 * sd) / steps;
  let m1 = 0;
  let m2 = 0;
  for (let i = 0; i <= steps; i++) {
    const x = lo + i * h;
    const weight = (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2) * Math.exp(-(((x - mu) / sd) ** 2) / 2);
    const y = Math.min(1, Math.max(-1, x));
    m1 += weight * y;
    m2 += weight * y * y;
  }
  const norm = (h / 3) * (1 / (sd * Math.sqrt(2 * Math.PI)));
  return { mean: m1 * norm, meanSquare: m2 * norm };
}

const COMPONENT = {
  negative: clippedMoments(CENTRES.negative, SPREAD),
  neutral: clippedMoments(CENTRES.neutral, SPREAD),
  positive: clippedMoments(CENTRES.positive, SPREAD),
};

export function meanOf(mix: Mix): number {
  return mix.negative * COMPONENT.negative.mean + mix.neutral * COMPONENT.neutral.mean + mix.positive * COMPONENT.positive.mean;
}

export function sdOf(mix: Mix): number {
  const square = mix.negative * COMPONENT.negative.meanSquare + mix.neutral * COMPONENT.neutral.meanSquare + mix.positive * COMPONENT.positive.meanSquare;
  return Math.sqrt(square - meanOf(mix) ** 2);
}

/** The mix whose expected score is `size` higher ('up') or lower ('down'). */
export function shiftedMix(mix: Mix, size: number, direction: 'up' | 'down'): Mix {
  const { negative: n, neutral: z, positive: p } = { negative: COMPONENT.negative.mean, neutral: COMPONENT.neutral.mean, positive: COMPONENT.positive.mean };
  if (direction === 'up') {
    const moved = size / ((p - n) / 2 + (p - z) / 2);
    const out = { negative: mix.negative - moved / 2, neutral: mix.neutral - moved / 2, positive: mix.positive + moved };
    return checked(out);
  }
  const moved = size / ((p - n) / 2 + (z - n) / 2);
  return checked({ negative: mix.negative + moved, neutral: mix.neutral - moved / 2, positive: mix.positive - moved / 2 });
}

function checked(mix: Mix): Mix {
  if (mix.negative < 0 || mix.neutral < 0 || mix.positive < 0) throw new RangeError(`shift too large for this mix: ${JSON.stringify(mix)}`);
  return mix;
}

/** A topic's stationary mix: negative and positive shares uniform in [0.25, 0.4]. */
export function randomMix(random: Random): Mix {
  const negative = random.between(0.25, 0.4);
  const positive = random.between(0.25, 0.4);
  return { negative, neutral: 1 - negative - positive, positive };
}

export function drawScore(random: Random, mix: Mix): number {
  const u = random.uniform();
  const centre = u < mix.negative ? CENTRES.negative : u < mix.negative + mix.neutral ? CENTRES.neutral : CENTRES.positive;
  return Math.min(1, Math.max(-1, centre + SPREAD * random.normal()));
}
