"""Topic-fair scoring, spec v1 (stdlib only): the terms that put a post into its topics become one
placeholder before the model sees the text.

This file and src/model/topic-mask.ts implement the same spec (read it there); the parity test
test/model/topic-mask.test.ts runs both through parity_cli.py and requires identical output.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Sequence

VERSION = "v1"
PLACEHOLDER = "this"
PREFIXES = "#@$"

_GAP_RE = re.compile(r"[ \t\r\n-]+")
_WORD_CACHE: dict[str, bool] = {}


def is_word_char(ch: str) -> bool:
    """Unicode letter (L*), number (N*) or underscore, as JS /[\\p{L}\\p{N}_]/u."""
    v = _WORD_CACHE.get(ch)
    if v is None:
        v = ch == "_" or unicodedata.category(ch)[0] in ("L", "N")
        _WORD_CACHE[ch] = v
    return v


def words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, lower-case word) for every maximal run of word characters."""
    out: list[tuple[int, int, str]] = []
    start = -1
    for i, ch in enumerate(text):
        if is_word_char(ch):
            if start < 0:
                start = i
        elif start >= 0:
            out.append((start, i, text[start:i].lower()))
            start = -1
    if start >= 0:
        out.append((start, len(text), text[start:].lower()))
    return out


def term_of(written: str) -> tuple[str, ...]:
    """Lower-case words of a term as a user writes it ("Manchester United", "#MUFC")."""
    return tuple(w for _, _, w in words(written))


def _has_prefix(text: str, at: int) -> bool:
    if at == 0 or text[at - 1] not in PREFIXES:
        return False
    return at == 1 or not is_word_char(text[at - 2])


class TopicMask:
    def __init__(self, terms: Iterable[Sequence[str]]):
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        self.joined: set[str] = set()
        for raw in terms:
            term = tuple(raw)
            if not term or any(w == "" for w in term):
                continue
            lst = self.by_first.setdefault(term[0], [])
            if term not in lst:
                lst.append(term)
            lst.sort(key=len, reverse=True)  # stable, as Array.prototype.sort
            if len(term) > 1:
                self.joined.add("".join(term))

    def _longest_at(self, text: str, ws: list[tuple[int, int, str]], i: int) -> int:
        for term in self.by_first.get(ws[i][2], ()):
            if i + len(term) > len(ws):
                continue
            k = 1
            while k < len(term):
                prev, nxt = ws[i + k - 1], ws[i + k]
                if nxt[2] != term[k] or not _GAP_RE.fullmatch(text[prev[1] : nxt[0]]):
                    break
                k += 1
            if k == len(term):
                return len(term)
        return 0

    def apply(self, text: str) -> str:
        if not self.by_first:
            return text
        ws = words(text)
        out: list[str] = []
        copied = 0
        i = 0
        while i < len(ws):
            start, _, lower = ws[i]
            prefixed = _has_prefix(text, start)
            span = self._longest_at(text, ws, i)
            if span == 0 and prefixed and lower in self.joined:
                span = 1
            if span == 0:
                i += 1
                continue
            out.append(text[copied : start - 1 if prefixed else start])
            out.append(PLACEHOLDER)
            copied = ws[i + span - 1][1]
            i += span
        if copied == 0:
            return text
        out.append(text[copied:])
        return "".join(out)


def mask_topic_terms(text: str, terms: Iterable[Sequence[str]]) -> str:
    return TopicMask(terms).apply(text)
