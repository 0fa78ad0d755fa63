"""The origin system's analysis step, for the bench's side by side: a roberta-base sequence
classifier (the architecture of cardiffnlp/twitter-roberta-base-sentiment) in PyTorch fp32, one
post per call, as the origin's consumer scored them. No weights can be downloaded here, so the
weights are random; a forward pass costs the same whatever the weights hold.

Tokens: RoBERTa's BPE vocabulary is not available offline, so the texts are tokenized with the
accurate tier's WordPiece tokenizer (tokenizers, same library as transformers' fast tokenizers),
about the same number of tokens per tweet; the ids fall inside roberta-base's 50,265.

  python bench/origin/roberta.py --texts FILE.json [--warm-up 10] [--threads 0]

Reads a JSON array of texts; prints "progress: n" lines on stderr and one JSON result on stdout:
{"posts", "seconds", "postsPerSecond", "extra"}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
from tokenizers import Tokenizer
from transformers import RobertaConfig, RobertaForSequenceClassification

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", required=True)
    ap.add_argument("--warm-up", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads, 0 = one per core (torch's default)")
    args = ap.parse_args()
    texts: list[str] = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    tokenizer = Tokenizer.from_file(str(REPO / "models/accurate/tokenizer.json"))
    tokenizer.enable_truncation(max_length=512)
    torch.manual_seed(0)
    # roberta-base: 12 layers, hidden 768, 12 heads, intermediate 3072, 3 labels.
    config = RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1, num_labels=3)
    model = RobertaForSequenceClassification(config).eval()

    def score(text: str) -> list[float]:
        ids = tokenizer.encode(text).ids
        input_ids = torch.tensor([ids], dtype=torch.long)
        with torch.inference_mode():
            logits = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).logits
        return torch.softmax(logits, dim=-1)[0].tolist()

    for text in texts[: args.warm_up]:
        score(text)
    tokens = 0
    last = 0.0
    started = time.perf_counter()
    for i, text in enumerate(texts):
        probs = score(text)
        if len(probs) != 3:
            raise SystemExit(f"expected 3 probabilities, got {len(probs)}")
        tokens += len(tokenizer.encode(text).ids)
        now = time.perf_counter()
        if now - last > 0.25:
            last = now
            print(f"progress: {i + 1}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    extra = {
        "model": "roberta-base (random weights), RobertaForSequenceClassification, fp32",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "tokensPerPost": tokens / max(1, len(texts)),
        "cpus": os.cpu_count(),
    }
    print(json.dumps({"posts": len(texts), "seconds": seconds, "postsPerSecond": len(texts) / seconds, "extra": extra}), flush=True)


if __name__ == "__main__":
    main()
