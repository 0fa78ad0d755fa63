"""Reference side of the TS/Python parity tests: JSON lines in, JSON lines out.

  python3 models/training/parity_cli.py normalize            < texts.jsonl   # stdlib only
  python3 models/training/parity_cli.py features BUCKETS     < texts.jsonl   # stdlib only
  python3 models/training/parity_cli.py wordpiece TOKENIZER_JSON MAX_LEN < texts.jsonl   # needs `tokenizers`
  python3 models/training/parity_cli.py topic-mask           < cases.jsonl   # stdlib only

Each input line is a JSON string (the raw post text); each output line is the JSON result
for it (normalised text, feature id list, or WordPiece id list of the normalised text).
For topic-mask each input line is a JSON pair [text, terms written as a user writes them] and
each output line the masked text (spec: src/model/topic-mask.ts).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from features import feature_ids  # noqa: E402
from normalize import normalize  # noqa: E402
from topic_mask import mask_topic_terms, term_of  # noqa: E402


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else ""
    texts = [json.loads(line) for line in sys.stdin.read().split("\n") if line]
    if mode == "normalize":
        out = [normalize(t) for t in texts]
    elif mode == "features":
        buckets = int(argv[2])
        out = [feature_ids(normalize(t), buckets) for t in texts]
    elif mode == "topic-mask":
        out = [mask_topic_terms(text, [term_of(t) for t in terms]) for text, terms in texts]
    elif mode == "wordpiece":
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(argv[2])
        tok.no_padding()
        tok.enable_truncation(max_length=int(argv[3]))
        out = [e.ids for e in tok.encode_batch([normalize(t) for t in texts])]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write("".join(json.dumps(o, ensure_ascii=True) + "\n" for o in out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
