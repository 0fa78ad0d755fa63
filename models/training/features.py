"""Hashed n-gram featuriser "hashed-ngrams-v1" for the fast tier (stdlib only).

Mirrored by src/model/hashed-ngrams.ts; both are checked against each other by
test/model/hashed-ngrams-parity.test.ts.  Spec, on the v1-normalised text:

 1. Bytes: UTF-8 of the text with ASCII A-Z lowercased (nothing else changes case).
 2. Tokens: 0x20 separates tokens; each ASCII punctuation byte (0x21-0x2F,
    0x3A-0x40, 0x5B-0x60, 0x7B-0x7E) except the apostrophe 0x27 is a token of
    its own; every other byte (letters, digits, apostrophe, any byte >= 0x80)
    extends the current word.
 3. Features, in this order, each a 32-bit FNV-1a hash of a byte string:
      unigram   0x01 + tok
      bigram    0x02 + tok[i] + 0x20 + tok[i+1]
      char gram 0x03 + w[s:s+n] for w = "<" + tok + ">", n in 3..5, s ascending,
                n ascending within one s (only grams that fit inside w)
    Truncated to the first MAX_FEATURES features.
 4. Id of a feature = 1 + (hash & (buckets - 1)); id 0 is padding.
"""
from __future__ import annotations

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
MASK32 = 0xFFFFFFFF
MAX_FEATURES = 1024

_PUNCT = bytearray(256)
for _b in list(range(0x21, 0x30)) + list(range(0x3A, 0x41)) + list(range(0x5B, 0x61)) + list(range(0x7B, 0x7F)):
    _PUNCT[_b] = 1
_PUNCT[0x27] = 0
_LOWER = bytes((b + 32) if 0x41 <= b <= 0x5A else b for b in range(256))


def fnv1a(data: bytes, h: int = FNV_OFFSET) -> int:
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK32
    return h


def tokens(text: str) -> list[bytes]:
    data = text.encode("utf-8").translate(_LOWER)
    out: list[bytes] = []
    start = -1
    for i, b in enumerate(data):
        if b == 0x20 or _PUNCT[b]:
            if start >= 0:
                out.append(data[start:i])
                start = -1
            if b != 0x20:
                out.append(data[i : i + 1])
        elif start < 0:
            start = i
    if start >= 0:
        out.append(data[start:])
    return out


def feature_hashes(text: str, max_features: int = MAX_FEATURES) -> list[int]:
    toks = tokens(text)
    feats: list[int] = []
    h1 = fnv1a(b"\x01")
    for t in toks:
        feats.append(fnv1a(t, h1))
    h2 = fnv1a(b"\x02")
    for a, b in zip(toks, toks[1:]):
        feats.append(fnv1a(b, fnv1a(b" ", fnv1a(a, h2))))
    if len(feats) >= max_features:
        return feats[:max_features]
    h3 = fnv1a(b"\x03")
    for t in toks:
        w = b"<" + t + b">"
        n = len(w)
        for s in range(n - 2):
            h = h3
            for k in range(s, min(s + 5, n)):
                h = ((h ^ w[k]) * FNV_PRIME) & MASK32
                if k - s >= 2:
                    feats.append(h)
        if len(feats) >= max_features:
            break
    return feats[:max_features]


def feature_ids(text: str, buckets: int, max_features: int = MAX_FEATURES) -> list[int]:
    m = buckets - 1
    return [1 + (h & m) for h in feature_hashes(text, max_features)]
