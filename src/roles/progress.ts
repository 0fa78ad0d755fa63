import cliProgress from 'cli-progress';

export interface ProgressSnapshot {
  readonly stored: number;
  readonly deadLetters: number;
  readonly queueDepths: readonly number[];
}

export interface ProgressReporter {
  update(snapshot: ProgressSnapshot): void;
  stop(): void;
}

/**
 * A progress bar on a terminal, periodic plain lines otherwise (logs, CI), nothing when off.
 * `total` is the number of posts expected, when known.
 */
export function progressReporter(mode: 'auto' | 'bar' | 'lines' | 'off', total: number | undefined, intervalSeconds: number): ProgressReporter {
  const useBar = mode === 'bar' || (mode === 'auto' && process.stderr.isTTY === true);
  const started = performance.now();
  const rate = (stored: number): number => stored / Math.max(1e-3, (performance.now() - started) / 1000);
  if (mode === 'off') return { update: () => undefined, stop: () => undefined };
  if (useBar) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'crowdpulse |{bar}| {value}/{total} posts stored | {rate}/s | dead letters {dead} | queues {queues}',
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { rate: 0, dead: 0, queues: '' });
    return {
      update: (s) => bar.update(s.stored, { rate: Math.round(rate(s.stored)), dead: s.deadLetters, queues: s.queueDepths.join('/') }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(s) {
      const now = performance.now();
      if (now - last < intervalSeconds * 1000) return;
      last = now;
      const of = total !== undefined ? `/${total}` : '';
      process.stderr.write(
        `progress: ${s.stored}${of} posts stored, ${Math.round(rate(s.stored))}/s, dead letters ${s.deadLetters}, queue depths ${s.queueDepths.join('/')}\n`,
      );
    },
    stop: () => undefined,
  };
}
