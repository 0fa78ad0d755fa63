/** A post kept because its score is among the most extreme of a run of buckets. */
export interface ExtremePost {
  readonly id: string;
  readonly score: number;
  readonly createdAtMs: number;
}

/**
 * The `capacity` posts with the highest scores (`side` = 'highest') or the lowest ('lowest') seen
 * since the last clear: bounded memory whatever the volume. Ties go to the earlier post, then the
 * smaller id, so the same posts give the same list in any arrival order.
 */
export class ExtremePosts {
  private readonly posts: ExtremePost[] = [];

  constructor(
    readonly side: 'highest' | 'lowest',
    readonly capacity: number,
  ) {}

  get size(): number {
    return this.posts.length;
  }

  /** Most extreme first. */
  get entries(): readonly ExtremePost[] {
    return this.posts;
  }

  ids(): string[] {
    return this.posts.map((p) => p.id);
  }

  add(post: ExtremePost): void {
    const full = this.posts.length >= this.capacity;
    const last = this.posts[this.posts.length - 1];
    if (full && last !== undefined && !this.before(post, last)) return;
    let i = this.posts.length;
    while (i > 0 && this.before(post, this.posts[i - 1] as ExtremePost)) i--;
    this.posts.splice(i, 0, post);
    if (this.posts.length > this.capacity) this.posts.pop();
  }

  addAll(other: ExtremePosts): void {
    for (const post of other.posts) this.add(post);
  }

  clear(): void {
    this.posts.length = 0;
  }

  /** Whether `a` ranks before (is more extreme than) `b`. */
  private before(a: ExtremePost, b: ExtremePost): boolean {
    if (a.score !== b.score) return this.side === 'highest' ? a.score > b.score : a.score < b.score;
    if (a.createdAtMs !== b.createdAtMs) return a.createdAtMs < b.createdAtMs;
    return a.id < b.id;
  }
}
