"""Regenerate the expected outputs in test/model/fixtures/ from the Python reference code.

  models/.venv/bin/python models/training/make_fixtures.py

Inputs: test/model/fixtures/synthetic-posts.json (strings written for the tests, no real data).
Outputs: normalize-expected.json, features-expected.json (fast tier's bucket count),
wordpiece-expected.json (models/accurate/tokenizer.json, max length from its manifest) and
golden-<tier>.json (probabilities from onnxruntime in Python) for each tier with a model.onnx.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from features import feature_ids  # noqa: E402
from normalize import normalize  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "test" / "model" / "fixtures"


def dump(name: str, obj: object) -> None:
    (FIX / name).write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {FIX / name}", file=sys.stderr)


def main() -> int:
    posts: list[str] = json.loads((FIX / "synthetic-posts.json").read_text(encoding="utf-8"))
    dump("normalize-expected.json", [normalize(p) for p in posts])
    fast = json.loads((REPO / "models" / "fast" / "model.json").read_text())
    buckets = fast["encoder"]["buckets"]
    dump("features-expected.json", {"buckets": buckets, "ids": [feature_ids(normalize(p), buckets) for p in posts]})

    acc_dir = REPO / "models" / "accurate"
    from tokenizers import Tokenizer

    max_len = 64
    if (acc_dir / "model.json").exists():
        max_len = json.loads((acc_dir / "model.json").read_text())["encoder"]["maxLength"]
    tok = Tokenizer.from_file(str(acc_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    wp = [e.ids for e in tok.encode_batch([normalize(p) for p in posts])]
    dump("wordpiece-expected.json", {"maxLength": max_len, "ids": wp})

    import onnxruntime as ort

    for tier in ("fast", "accurate"):
        d = REPO / "models" / tier
        if not (d / "model.json").exists():
            continue
        m = json.loads((d / "model.json").read_text())
        sess = ort.InferenceSession(str(d / m["onnx"]), providers=["CPUExecutionProvider"])
        probs = []
        for i, p in enumerate(posts):  # one post per run: no padding effects in the reference
            if tier == "fast":
                from export_fast import flat_feeds

                feeds = flat_feeds([feature_ids(normalize(p), m["encoder"]["buckets"])])
                if feeds["feature_ids"].size == 0:  # as the TS encoder does: one zero-row feature
                    feeds["feature_ids"] = np.zeros(1, dtype=np.int32)
                    feeds["feature_rows"] = np.zeros((1, 1), dtype=np.int64)
            else:
                ids = wp[i]
                feeds = {"input_ids": np.array([ids], dtype=np.int64), "attention_mask": np.ones((1, len(ids)), dtype=np.int64)}
            probs.append([round(float(x), 6) for x in sess.run(["probs"], feeds)[0][0]])
        dump(f"golden-{tier}.json", {"model": m["id"], "probs": probs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
