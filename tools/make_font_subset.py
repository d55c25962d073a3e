"""Build the bundled card fonts: Noto Sans CJK SC subset to Latin + GB2312.

Usage: python tools/make_font_subset.py [--src-dir DIR] [--out-dir DIR]

Reads Debian's fonts-noto-cjk collections (apt-get install fonts-noto-cjk) and writes
assets/fonts/NotoSansCJKsc-{Regular,Bold}-subset.otf. The output is deterministic for a
given source font and fontTools version (no timestamps are refreshed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

# Font number of "Noto Sans CJK SC" inside NotoSansCJK-*.ttc (0 JP, 1 KR, 2 SC, 3 TC, 4 HK);
# checked by name below rather than trusted.
SC_FONT_NUMBER = 2
WEIGHTS = ("Regular", "Bold")

RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x2000, 0x206F),  # General Punctuation
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0xFF00, 0xFFEF),  # Halfwidth and Fullwidth Forms
)


def gb2312_chars() -> set[str]:
    """Every character GB2312 encodes (symbols, level-1 and level-2 hanzi)."""
    chars: set[str] = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def codepoints() -> list[int]:
    points = {cp for lo, hi in RANGES for cp in range(lo, hi + 1)}
    points.update(ord(c) for c in gb2312_chars())
    return sorted(points)


def build(src: Path, out: Path, points: list[int]) -> None:
    collection = TTCollection(src, lazy=False)
    font = collection.fonts[SC_FONT_NUMBER]
    family = font["name"].getDebugName(1) or ""
    if not family.startswith("Noto Sans CJK SC"):
        raise SystemExit(f"{src}: font #{SC_FONT_NUMBER} is {family!r}, not Noto Sans CJK SC")
    options = subset.Options()
    # Horizontal Simplified Chinese only: 'locl' would drag in ~5,800 JP/KR/TC/HK variant
    # glyphs and 'vert' the vertical forms, neither of which a card ever shows.
    options.layout_features = ["ccmp", "liga", "calt", "kern", "palt", "halt", "mark", "mkmk"]
    options.name_IDs = ["*"]  # keep copyright, trademark and licence records (OFL)
    options.name_languages = [0x0409]
    options.notdef_outline = True
    options.hinting = False  # smaller files; at 24-64 px FreeType needs no CFF hints
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=points)
    subsetter.subset(font)
    font.recalcTimestamp = False  # keep head.modified from the source: reproducible bytes
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(out)
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB, {len(font.getGlyphOrder())} glyphs")


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src-dir", type=Path, default=Path("/usr/share/fonts/opentype/noto"))
    parser.add_argument("--out-dir", type=Path, default=root / "assets" / "fonts")
    args = parser.parse_args()
    points = codepoints()
    print(f"{len(points)} code points")
    for weight in WEIGHTS:
        build(
            args.src_dir / f"NotoSansCJK-{weight}.ttc",
            args.out_dir / f"NotoSansCJKsc-{weight}-subset.otf",
            points,
        )


if __name__ == "__main__":
    main()
