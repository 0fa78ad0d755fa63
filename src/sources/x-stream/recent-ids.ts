/**
 * The ids of posts seen lately, bounded: past `capacity` the oldest are forgotten (a Map keeps its
 * insertion order). Backfill asks it whether the stream already delivered a post; a hole is filled
 * within seconds to minutes of closing, so the recent past is all it needs.
 */
export class RecentIds {
  readonly #ids = new Map<string, true>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.#ids.size;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    if (this.#ids.has(id)) return;
    this.#ids.set(id, true);
    if (this.#ids.size > this.capacity) {
      const oldest = this.#ids.keys().next();
      if (!oldest.done) this.#ids.delete(oldest.value);
    }
  }
}
