"""Text normalisation v1 for crowdpulse sentiment models (stdlib only).

This file and src/model/normalize.ts implement the same spec; a parity test
(test/model/normalize-parity.test.ts) runs both.  Spec "v1", applied in order:

 1. Whitespace: every char in WS (below) becomes a plain space.
 2. HTML entities: &amp; &lt; &gt; &quot; &#39; are decoded (one pass).
 3. URLs: "http://", "https://" or "www." (ASCII case-insensitive) up to the
    next space becomes the token "http".
 4. Mentions: "@" + [A-Za-z0-9_]+ not preceded by [A-Za-z0-9_] becomes "@user".
 5. Hashtags: "#" + [A-Za-z0-9_]+ not preceded by [A-Za-z0-9_] loses the "#"
    (the word is kept: "#blessed" -> "blessed").
 6. Emoji: code points in models/emoji-names.json become " <name> "; a run of
    the same emoji (spaces in between allowed) is written once.  ZWJ (200D),
    variation selectors (FE0E, FE0F), skin tone modifiers (1F3FB-1F3FF) and tag
    characters (E0020-E007F) are removed.  Keycap combiner (20E3) is removed.
 7. Runs of spaces collapse to one; leading/trailing spaces are trimmed.

Case is preserved (each encoder lowercases on its own).  Only ASCII classes
are used in patterns so that Python `re` and JS RegExp agree exactly.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

VERSION = "v1"
EMOJI_JSON = Path(__file__).resolve().parent.parent / "emoji-names.json"

WS_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WS_TABLE = {ord(c): " " for c in WS_CHARS}

_ENTITY_RE = re.compile(r"&(amp|lt|gt|quot|#39);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "#39": "'"}
_URL_RE = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)[^ ]+")
_MENTION_RE = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9_]+")
_HASHTAG_RE = re.compile(r"(?<![A-Za-z0-9_])#([A-Za-z0-9_]+)")
_SPACES_RE = re.compile(r" {2,}")

_DROP = {0x200D, 0xFE0E, 0xFE0F, 0x20E3}
_DROP.update(range(0x1F3FB, 0x1F3FF + 1))
_DROP.update(range(0xE0020, 0xE007F + 1))


def load_emoji_names(path: Path = EMOJI_JSON) -> dict[int, str]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {int(k, 16): v for k, v in doc["names"].items()}


_EMOJI: dict[int, str] | None = None


def _emoji() -> dict[int, str]:
    global _EMOJI
    if _EMOJI is None:
        _EMOJI = load_emoji_names()
    return _EMOJI


def _map_emoji(text: str, table: dict[int, str]) -> str:
    out: list[str] = []
    last: str | None = None
    for ch in text:
        cp = ord(ch)
        if cp < 0x2300:  # fast path: nothing below U+2300 is mapped or dropped except 20E3/200D
            if cp == 0x200D or cp == 0x20E3:
                continue
            if cp != 0x20:
                last = None
            out.append(ch)
            continue
        if cp in _DROP:
            continue
        name = table.get(cp)
        if name is not None:
            if name != last:
                out.append(" " + name + " ")
                last = name
            continue
        last = None
        out.append(ch)
    return "".join(out)


def normalize(text: str) -> str:
    t = text.translate(_WS_TABLE)
    t = _ENTITY_RE.sub(lambda m: _ENTITIES[m.group(1)], t)
    t = _URL_RE.sub("http", t)
    t = _MENTION_RE.sub("@user", t)
    t = _HASHTAG_RE.sub(r"\1", t)
    t = _map_emoji(t, _emoji())
    t = _SPACES_RE.sub(" ", t)
    return t.strip(" ")


if __name__ == "__main__":
    import sys

    for line in sys.stdin:
        sys.stdout.write(normalize(line.rstrip("\n")) + "\n")
