/** One ack for several merged batches: calling it acks each of them once. */
export function ackAll(acks: readonly (() => void)[]): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const ack of acks) ack();
  };
}
