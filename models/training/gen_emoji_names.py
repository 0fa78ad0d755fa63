"""Generate models/emoji-names.json: emoji code point -> lowercase words.

Source: the Unicode character names shipped with CPython's `unicodedata`
(no third-party lexicon).  The JSON is committed and is the single table that
both the Python (training) and TypeScript (serving) normalisers load, so the
Unicode version of whichever Python runs this script does not matter at
serving time.

Run:  python models/training/gen_emoji_names.py
"""
from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "emoji-names.json"

# Blocks that hold pictographic emoji.  Only characters of category "So"
# (other symbol) are taken, so letters/digits in these blocks never map.
RANGES = [
    (0x2300, 0x23FF),   # Miscellaneous Technical (watch, hourglass, alarm clock)
    (0x2600, 0x26FF),   # Miscellaneous Symbols (sun, umbrella, hearts, smiling face)
    (0x2700, 0x27BF),   # Dingbats (check mark, sparkles, heavy black heart)
    (0x2B00, 0x2BFF),   # Misc Symbols and Arrows (star, arrows)
    (0x1F000, 0x1FAFF), # Mahjong .. Symbols and Pictographs Extended-A
]
EXTRA = [0x3030, 0x303D, 0x3297, 0x3299]

# Regional indicators: a flag is two of them; both map to "flag" and the
# normaliser collapses the repeat.
REGIONAL = range(0x1F1E6, 0x1F1FF + 1)
# Skin tone modifiers carry no sentiment: dropped by the normaliser instead.
SKIN_TONES = range(0x1F3FB, 0x1F3FF + 1)


def clean(name: str) -> str:
    words = name.lower().replace("-", " ").replace("_", " ").split()
    return " ".join(words)


def build() -> dict[str, str]:
    table: dict[str, str] = {}
    cps = [cp for lo, hi in RANGES for cp in range(lo, hi + 1)] + EXTRA
    for cp in cps:
        if cp in SKIN_TONES:
            continue
        ch = chr(cp)
        if cp in REGIONAL:
            table[ch] = "flag"
            continue
        if unicodedata.category(ch) != "So":
            continue
        name = unicodedata.name(ch, "")
        if not name:
            continue
        table[ch] = clean(name)
    return table


def main() -> int:
    table = build()
    doc = {
        "version": 1,
        "unicode": unicodedata.unidata_version,
        "comment": "emoji code point -> words, from Unicode character names (models/training/gen_emoji_names.py)",
        "names": {f"{ord(k):X}": v for k, v in sorted(table.items(), key=lambda kv: ord(kv[0]))},
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=True, indent=0, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(table)} entries, Unicode {unicodedata.unidata_version})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
