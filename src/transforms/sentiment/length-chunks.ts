/**
 * How one batch of posts becomes model calls when the encoder pads every post of a call to the
 * longest one (WordPiece): a call's cost grows with posts × longest, so posts of similar token
 * counts share a call.
 */

/** The manifest's serving.lengthSortedChunk and serving.maxPaddingShare. */
export interface LengthChunking {
  /** Most posts per call; 0 = the whole batch in one call, in its order. */
  readonly maxChunk: number;
  /** Padding a call may carry, as a share of its real tokens (0.1 = at most 10 % extra). */
  readonly maxPaddingShare: number;
}

/**
 * The posts of each call, as indices into `lengths` (each post's token count): sorted by token
 * count, a call is cut where it would hold more than maxChunk posts or where padding to its longest
 * post would exceed maxPaddingShare of its real tokens. Every index appears exactly once.
 */
export function planChunks(lengths: readonly number[], chunking: LengthChunking): number[][] {
  if (lengths.length === 0) return [];
  const indices = lengths.map((_, i) => i);
  if (chunking.maxChunk <= 0) return [indices];
  const order = indices.sort((a, b) => lengths[a]! - lengths[b]!);
  const chunks: number[][] = [];
  let chunk: number[] = [];
  let real = 0;
  for (const i of order) {
    const length = Math.max(1, lengths[i]!);
    // Ascending order: this post is the longest of the chunk if it joins.
    const padded = length * (chunk.length + 1);
    const full = chunk.length >= chunking.maxChunk || padded > (1 + chunking.maxPaddingShare) * (real + length);
    if (chunk.length > 0 && full) {
      chunks.push(chunk);
      chunk = [];
      real = 0;
    }
    chunk.push(i);
    real += length;
  }
  chunks.push(chunk);
  return chunks;
}
