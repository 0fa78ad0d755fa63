"""Readers for the labelled tweet sets in ../shared/data (never copied into the repo)."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LABELS = ["negative", "neutral", "positive"]


def data_root() -> Path:
    env = os.environ.get("CROWDPULSE_DATA")
    root = Path(env) if env else REPO.parent / "shared" / "data"
    if not (root / "README.md").exists():
        raise SystemExit(f"labelled data not found at {root} (set CROWDPULSE_DATA)")
    return root


def _pair(text_path: Path, label_path: Path) -> tuple[list[str], list[int]]:
    texts = text_path.read_text(encoding="utf-8").split("\n")
    labels = label_path.read_text(encoding="utf-8").split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    if labels and labels[-1] == "":
        labels.pop()
    if len(texts) != len(labels):
        raise SystemExit(f"{text_path}: {len(texts)} texts vs {len(labels)} labels")
    return texts, [int(x) for x in labels]


def semeval_train() -> tuple[list[str], list[int]]:
    d = data_root() / "train" / "semeval2013-2016"
    return _pair(d / "train_text.txt", d / "train_labels.txt")


def tweeteval(split: str) -> tuple[list[str], list[int]]:
    d = data_root() / "eval" / "tweeteval-sentiment"
    return _pair(d / f"{split}_text.txt", d / f"{split}_labels.txt")


def tse_train() -> tuple[list[str], list[int]]:
    """Kaggle tweet-sentiment-extraction train.csv (text, sentiment words)."""
    import csv

    path = data_root() / "train" / "tweet-sentiment-extraction" / "train.csv"
    m = {"negative": 0, "neutral": 1, "positive": 2}
    texts: list[str] = []
    labels: list[int] = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["sentiment"] in m and row["text"].strip():
                texts.append(row["text"])
                labels.append(m[row["sentiment"]])
    return texts, labels


def macro_recall(gold: list[int], pred: list[int], k: int = 3) -> tuple[float, list[float], float]:
    rec = []
    for c in range(k):
        n = sum(1 for g in gold if g == c)
        hit = sum(1 for g, p in zip(gold, pred) if g == c and p == c)
        rec.append(hit / n if n else 0.0)
    acc = sum(1 for g, p in zip(gold, pred) if g == p) / max(1, len(gold))
    return sum(rec) / k, rec, acc
