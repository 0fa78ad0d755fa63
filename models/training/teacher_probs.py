"""Probabilities of the committed accurate tier on the training texts, for distilling the fast tier.

  models/.venv/bin/python models/training/teacher_probs.py [--with-tse] --out models/.work/teacher.npy

Runs models/accurate/model.onnx (onnxruntime, length-sorted batches) on the same text list that
train_fast.py builds (SemEval train, then the Kaggle train set with --with-tse), in that order.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import REPO, semeval_train, tse_train  # noqa: E402
from export_accurate import ort_probs  # noqa: E402
from train_accurate import encode_all, make_tokenizer  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--with-tse", action="store_true")
    ap.add_argument("--out", default=str(REPO / "models" / ".work" / "teacher.npy"))
    args = ap.parse_args()
    tx, _ = semeval_train()
    if args.with_tse:
        tx += tse_train()[0]
    ids = encode_all(make_tokenizer(64), tx)
    p = ort_probs(REPO / "models" / "accurate" / "model.onnx", ids, bs=64)
    np.save(args.out, p)
    print(f"teacher probs for {len(tx)} texts -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
