"""Train the fast tier: hashed n-gram embedding bag -> linear -> softmax.

  # teacher = the committed accurate tier's probabilities on the same texts (teacher_probs.py)
  models/.venv/bin/python models/training/teacher_probs.py --with-tse --out models/.work/teacher-tse.npy
  models/.venv/bin/python models/training/train_fast.py --epochs 4 --lr 0.002 --int8 \
      --with-tse --teacher models/.work/teacher-tse.npy --teacher-weight 0.7   # → models/fast/

Features: models/training/features.py (hashed-ngrams-v1) over normalize v1.
Training: EmbeddingBag(mean) with SparseAdam, class-weighted cross-entropy,
model selection on TweetEval val macro-recall (one check per epoch).
Export: models/training/export_fast.py builds the ONNX graph by hand (flat
feature ids + rows + counts, ScatterND mean, linear head, softmax → probs);
the embedding table is stored as int8 (one scale, folded into the head) when --int8 is set.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import LABELS, REPO, macro_recall, semeval_train, tse_train, tweeteval  # noqa: E402
from features import MAX_FEATURES, feature_ids  # noqa: E402
from normalize import normalize  # noqa: E402


def featurise(texts: list[str], buckets: int, cache: Path) -> list[list[int]]:
    key = hashlib.sha1(("\n".join(texts) + f"|{buckets}|{MAX_FEATURES}").encode()).hexdigest()[:16]
    f = cache / f"feats-{key}.pkl"
    if f.exists():
        return pickle.loads(f.read_bytes())
    out = [feature_ids(normalize(t), buckets) for t in texts]
    cache.mkdir(parents=True, exist_ok=True)
    f.write_bytes(pickle.dumps(out))
    return out


class Bag(torch.nn.Module):
    def __init__(self, buckets: int, dim: int, hidden: int) -> None:
        super().__init__()
        self.emb = torch.nn.EmbeddingBag(buckets + 1, dim, mode="mean", sparse=True)
        torch.nn.init.uniform_(self.emb.weight, -1.0 / dim, 1.0 / dim)
        if hidden > 0:
            self.head: torch.nn.Module = torch.nn.Sequential(
                torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 3)
            )
        else:
            self.head = torch.nn.Linear(dim, 3)

    def forward(self, flat: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.head(self.emb(flat, offsets))


def to_flat(batch: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    offs = np.cumsum([0] + [len(x) for x in batch[:-1]])
    flat = np.fromiter((i for x in batch for i in x), dtype=np.int64)
    return torch.from_numpy(flat), torch.from_numpy(offs.astype(np.int64))


@torch.no_grad()
def predict(model: Bag, feats: list[list[int]], bs: int = 1024) -> np.ndarray:
    model.eval()
    out = []
    for s in range(0, len(feats), bs):
        out.append(torch.softmax(model(*to_flat(feats[s : s + bs])), -1).numpy())
    model.train()
    return np.concatenate(out)


def onnx_probs(path: Path, feats: list[list[int]], bs: int = 256) -> np.ndarray:
    import onnxruntime as ort

    from export_fast import flat_feeds

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    out = [sess.run(["probs"], flat_feeds(feats[s : s + bs]))[0] for s in range(0, len(feats), bs)]
    return np.concatenate(out)


def train_one(args: argparse.Namespace, seed: int, tr: list[list[int]], ty: list[int], va: list[list[int]], vy: list[int],
              weights: torch.Tensor, teacher: torch.Tensor | None) -> tuple[Bag, dict]:
    """One model from one seed; its best epoch by val macro-recall."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = Bag(args.buckets, args.dim, args.hidden)
    opt_s = torch.optim.SparseAdam(list(model.emb.parameters()), lr=args.lr)
    opt_d = torch.optim.Adam(list(model.head.parameters()), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    best: dict = {"macro_recall": -1.0}
    best_state = None
    idx = list(range(len(tr)))
    steps_total = args.epochs * ((len(idx) + args.batch - 1) // args.batch)
    step = 0
    for ep in range(args.epochs):
        te = time.time()
        rng.shuffle(idx)
        for s in range(0, len(idx), args.batch):
            sel = idx[s : s + args.batch]
            frac = 1.0 - step / steps_total
            for o in (opt_s, opt_d):
                for g in o.param_groups:
                    g["lr"] = args.lr * frac
            logits = model(*to_flat([tr[i] for i in sel]))
            loss = loss_fn(logits, torch.tensor([ty[i] for i in sel]))
            if teacher is not None:
                soft = -(teacher[sel] * torch.log_softmax(logits, -1)).sum(-1).mean()
                loss = args.teacher_weight * soft + (1 - args.teacher_weight) * loss
            opt_s.zero_grad()
            opt_d.zero_grad()
            loss.backward()
            opt_s.step()
            opt_d.step()
            step += 1
        p = predict(model, va)
        mr, rec, acc = macro_recall(vy, p.argmax(1).tolist())
        print(f"seed {seed} epoch {ep+1}: val macro-recall {mr:.4f} recall {[round(r, 3) for r in rec]} acc {acc:.4f} ({time.time()-te:.0f}s)", flush=True)
        if mr > best["macro_recall"]:
            best = {"macro_recall": mr, "recall": rec, "acc": acc, "epoch": ep + 1}
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    assert best_state is not None
    model.load_state_dict(best_state)
    return model, best


def average_logits(members: list[Bag]) -> Bag:
    """One bag whose logits are the mean of the members' logits: their tables side by side
    (dim × N) and their heads side by side, each divided by N. Exact, since pooling is a mean per
    column and the head is linear; the ONNX graph stays the same shape."""
    n = len(members)
    heads = [m.head for m in members]
    assert all(isinstance(h, torch.nn.Linear) for h in heads), "averaging needs linear heads (--hidden 0)"
    table = torch.cat([m.emb.weight.detach() for m in members], dim=1)
    out = Bag(table.shape[0] - 1, table.shape[1], 0)
    with torch.no_grad():
        out.emb.weight.copy_(table)
        out.head.weight.copy_(torch.cat([h.weight.detach() / n for h in heads], dim=1))  # type: ignore[union-attr]
        out.head.bias.copy_(sum(h.bias.detach() for h in heads) / n)  # type: ignore[union-attr]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--buckets", type=int, default=1 << 18)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--with-tse", action="store_true")
    ap.add_argument("--teacher", help="teacher probabilities (.npy from teacher_probs.py, same text order) to distil")
    ap.add_argument("--teacher-weight", type=float, default=0.7, help="share of the loss given to the teacher's soft labels")
    ap.add_argument("--class-weight", choices=["inverse", "sqrt", "none"], default="inverse")
    ap.add_argument("--ngrams", choices=["all", "words"], default="all", help="words: word uni+bigrams only (ablation)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--seeds", help="comma-separated seeds: train one model per seed and export the mean of their logits (tables side by side)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--out", default=str(REPO / "models" / "fast"))
    ap.add_argument("--work", default=str(REPO / "models" / ".work" / "fast"))
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--id", default="crowdpulse-fast-v2", help="model id written into model.json")
    args = ap.parse_args()
    assert args.buckets & (args.buckets - 1) == 0, "buckets must be a power of two"

    torch.set_num_threads(args.threads)
    work = Path(args.work)
    t0 = time.time()
    tx, ty = semeval_train()
    if args.with_tse:
        ex, ey = tse_train()
        tx, ty = tx + ex, ty + ey
    vx, vy = tweeteval("val")
    tr = featurise(tx, args.buckets, work)
    va = featurise(vx, args.buckets, work)
    print(f"featurised {len(tr)} train / {len(va)} val in {time.time()-t0:.0f}s", flush=True)

    counts = np.bincount(ty, minlength=3).astype(np.float64)
    w = counts.sum() / (3 * counts)
    w = {"inverse": w, "sqrt": np.sqrt(w), "none": np.ones(3)}[args.class_weight]
    weights = torch.tensor(w, dtype=torch.float32)
    teacher = torch.from_numpy(np.load(args.teacher)).float() if args.teacher else None
    if teacher is not None and teacher.shape[0] != len(tr):
        raise SystemExit(f"{args.teacher}: {teacher.shape[0]} rows for {len(tr)} training texts (same --with-tse?)")
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    members = []
    for seed in seeds:
        member, best = train_one(args, seed, tr, ty, va, vy, weights, teacher)
        print(f"seed {seed}: best {best}", flush=True)
        members.append(member)
    model = members[0]
    if len(members) > 1:
        model = average_logits(members)
        mr, rec, acc = macro_recall(vy, predict(model, va).argmax(1).tolist())
        best = {"macro_recall": mr, "recall": rec, "acc": acc, "members": len(members)}
    print(f"best {best}", flush=True)
    if args.no_export:
        return 0

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import onnx

    from export_fast import build

    final = out / "model.onnx"
    if isinstance(model.head, torch.nn.Linear):
        first, out_layer = model.head, None
    else:
        first, second = model.head[0], model.head[2]
        out_layer = (second.weight.detach().numpy(), second.bias.detach().numpy())
    onnx.save(build(model.emb.weight.detach().numpy(), first.weight.detach().numpy(), first.bias.detach().numpy(),
                    int8=args.int8, out_layer=out_layer), str(final))
    pv = onnx_probs(final, va)
    mr_onnx, _, _ = macro_recall(vy, pv.argmax(1).tolist())
    ref = predict(model, va)
    print(f"onnx val macro-recall {mr_onnx:.4f} (torch {best['macro_recall']:.4f}); max |dp| {np.abs(pv-ref).max():.4f}", flush=True)
    manifest = {
        "id": args.id,
        "tier": "fast",
        "labels": LABELS,
        "onnx": "model.onnx",
        "encoder": {"kind": "hashed-ngrams", "version": "v1", "buckets": args.buckets, "maxFeatures": MAX_FEATURES},
        "normalization": "v1",
        "serving": {"maxBatch": 512, "lengthSortedChunk": 0},
    }
    (out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "training.json").write_text(json.dumps({
        "command": "models/.venv/bin/python models/training/train_fast.py " + " ".join(sys.argv[1:]),
        "args": vars(args) | {"out": None, "work": None},
        "train_examples": len(tr), "best_val_torch": best, "val_macro_recall_onnx": mr_onnx,
        "wall_seconds": round(time.time() - t0), "onnx_bytes": final.stat().st_size,
    }, indent=2) + "\n")
    print(f"wrote {final} ({final.stat().st_size/1e6:.1f} MB) in {time.time()-t0:.0f}s total", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
