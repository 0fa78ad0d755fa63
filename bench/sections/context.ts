/** What every bench section gets: the options, the progress display, the results so far, the services. */
import type { BenchProgress } from '../lib/progress.js';
import type { BenchResults } from '../lib/results.js';
import type { Service } from '../lib/services.js';
import type { TierInfo } from '../lib/models.js';
import type { SourceKind } from '../topologies/embedded.js';

export interface BenchOptions {
  readonly posts: number;
  /** Per-tier override of `posts` (e.g. fewer for a slow tier); posts/s stays comparable. */
  readonly tierPosts: Readonly<Record<string, number>>;
  readonly repeats: number;
  readonly tiers: readonly string[];
  readonly topologies: readonly ('embedded' | 'kafka')[];
  readonly sources: readonly SourceKind[];
  readonly kafkaStores: readonly ('influxdb' | 'sqlite')[];
  readonly sections: ReadonlySet<string>;
  readonly rates: readonly string[];
  readonly durationSeconds: number;
  readonly sustainedRepeats: number;
  readonly microRepeats: number;
  readonly sustainedSources: readonly SourceKind[];
  readonly baselinePosts: number;
  /** Posts for the origin analyser (PyTorch roberta-base, 9–17 posts/s measured on this machine kind). */
  readonly originPosts: number;
  readonly fixture: string;
  readonly outDir: string;
  readonly profile: boolean;
  readonly profileAll: boolean;
  readonly warmUpPosts: number;
  readonly maxBatch: number;
  readonly runTimeoutMs: number;
  readonly kafkaPort: number;
  readonly influxPort: number;
}

export interface BenchContext {
  readonly options: BenchOptions;
  readonly progress: BenchProgress;
  readonly results: BenchResults;
  readonly tiers: ReadonlyMap<string, TierInfo>;
  readonly services: { kafka?: Service; influxdb?: Service; problems: string[] };
  /** Writes the results so far (JSON + markdown). */
  save(): void;
}

/** Posts per end-to-end run for a tier. */
export const postsFor = (o: BenchOptions, tier: string): number => o.tierPosts[tier] ?? o.posts;
