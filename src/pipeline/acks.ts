/** An ack that fires `inner` once, after it has itself been called `parts` times (a batch split into parts). */
export function ackAfter(parts: number, inner: () => void): () => void {
  let remaining = parts;
  if (remaining <= 0) {
    inner();
    return () => undefined;
  }
  return () => {
    remaining -= 1;
    if (remaining === 0) inner();
  };
}

/** One ack for several merged batches: calling it acks each of them once. */
export function ackAll(acks: readonly (() => void)[]): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const ack of acks) ack();
  };
}

export const noAck = (): void => undefined;
