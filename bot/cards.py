"""Share cards: the employee's personalized PNG (activity, contact, QR code to their link).

Pure domain code: Pillow and qrcode only. Fonts are loaded and the static artwork (the
caption included) is drawn once per renderer; each render pastes the background onto a
reused canvas, lays out the text, draws the QR matrix directly (qrcode's matrix and mask,
the mask found faster: see _best_mask; no qrcode image factory) and encodes the PNG
without row filters (see encode_png_unfiltered). Rendered PNGs are kept in an LRU keyed
by CARD_VERSION and the full content.

Emoji are drawn in colour from Noto Color Emoji (Debian's fonts-noto-color-emoji, not
bundled: 11 MB of bitmaps, more than the card's own fonts), whose CBDT bitmaps exist at one
size only: each emoji is drawn once at EMOJI_STRIKE px with `embedded_color=True`, then
scaled to the text's size. In the laid-out text an emoji is one private-use character
(EMOJI_CODES), one em and a quarter wide; where it is drawn, its bitmap is pasted. Without
the emoji font, emoji are left out and the spaces around them close up.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import struct
import threading
import unicodedata
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from bot.i18n import N_

log = logging.getLogger(__name__)

# Bump on any design change: cached cards made by an older design are then never served.
CARD_VERSION = 4

REGULAR_FONT = "NotoSansCJKsc-Regular-subset.otf"
BOLD_FONT = "NotoSansCJKsc-Bold-subset.otf"
# The line under the QR code, in the card's language (CardContent.caption; the caller translates).
CAPTION = N_("Scan to learn more")
ELLIPSIS = "…"
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")  # fonts-noto-color-emoji
EMOJI_STRIKE = 109  # px: the only size of Noto Color Emoji's bitmaps (FreeType refuses others)
EMOJI_ADVANCE = 1.25  # em: an emoji's width in a line (the bitmaps are 136 x 128 at 109 px)
EMOJI_CENTRE = 0.38  # em above the baseline: the middle of the CJK em box (0.88 up, 0.12 down)
EMOJI_MAX = 4096  # distinct emoji a renderer keeps drawn

WIDTH, HEIGHT = 1080, 1620
MARGIN = 72
# zlib level 3: within 0.6 ms of levels 1 and 2 on a card (all three are zlib's "fast"
# deflate) and about 8% smaller (~183 kB); level 4 takes twice as long for another 6%.
# memLevel 7 (a smaller hash table than the default 8) saves ~0.6 ms of ~10 for 0.3% size.
PNG_COMPRESS_LEVEL = 3
PNG_MEM_LEVEL = 7
# Rows per piece handed from Pillow to zlib: no copy of the whole image is ever made.
PNG_STRIP_ROWS = 64
# Spare canvases a renderer keeps between renders (each WIDTH x HEIGHT x 4 bytes, ~7 MB).
# A fresh 7 MB image costs several ms in page faults under KVM, more than pasting onto one.
SPARE_CANVASES = 2
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

RGB = tuple[int, int, int]
PAGE: RGB = (241, 245, 249)
INK: RGB = (15, 23, 42)
INK_SOFT: RGB = (51, 65, 85)
MUTED: RGB = (100, 116, 139)
WHITE: RGB = (255, 255, 255)
HEADER_TINT: RGB = (224, 231, 255)
ACCENT: RGB = (79, 70, 229)
ACCENT_SOFT: RGB = (238, 242, 255)
BAND_FROM: RGB = (37, 99, 235)
BAND_TO: RGB = (109, 40, 217)
SHADOW: RGB = (15, 23, 42)

# Layout (pixels). The header band holds the type pill, the activity name and its time;
# the employee card overlaps the band's lower edge; the QR card sits at the bottom.
BAND_H = 560
PILL_Y, PILL_H, PILL_PAD = 64, 56, 26
HEADER_TOP, HEADER_BOTTOM = 156, 472
CARD_BOX = (54, 500, WIDTH - 54, 830)
CARD_RADIUS = 36
AVATAR_D = 168
AVATAR_CX, AVATAR_CY = CARD_BOX[0] + 48 + AVATAR_D // 2, (CARD_BOX[1] + CARD_BOX[3]) // 2
INFO_X = AVATAR_CX + AVATAR_D // 2 + 44
INFO_RIGHT = CARD_BOX[2] - 48
INFO_TOP, INFO_BOTTOM = CARD_BOX[1] + 36, CARD_BOX[3] - 36
ICON = 30
HEADLINE_TOP, HEADLINE_BOTTOM = 852, 948
QR_CARD = 470
QR_CARD_BOX = ((WIDTH - QR_CARD) // 2, 968, (WIDTH + QR_CARD) // 2, 968 + QR_CARD)
QR_BOX = QR_CARD - 40  # the matrix (with its own 4-module quiet zone) fits in here
SHORT_URL_TOP = QR_CARD_BOX[3] + 22
CAPTION_TOP = SHORT_URL_TOP + 52

# Font sizes: the first size at which the text fits without an ellipsis wins.
TITLE_SIZES = (64, 56, 50)
TITLE_LINES = 3
TIME_SIZE, TIME_LINES = 34, 2
PILL_SIZE = 28
NAME_SIZES = (48, 40)
NAME_LINES = 2
ROLE_SIZE = 30
CONTACT_SIZE = 29
AVATAR_SIZE = 56
HEADLINE_SIZE, HEADLINE_LINES = 32, 2
URL_SIZES = (32, 28, 24)
CAPTION_SIZE = 26
LINE_SPACING = 1.3
# Noto Sans CJK's ideographic em box runs from 0.88 em above the baseline to 0.12 below.
EM_ASCENT = 0.88

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff"
_CJK_RE = re.compile(f"[{_CJK}]")
# An emoji in laid-out text: a character of Supplementary Private Use Area-A, which no text
# font here maps; the renderer knows which emoji each one stands for.
_CODES = "\U000f0000-\U000ffffd"
EMOJI_CODES = re.compile(f"[{_CODES}]")
_TOKEN_RE = re.compile(rf"[{_CJK}{_CODES}]|[^\s{_CJK}{_CODES}]+\s*|\s+")
# What may be an emoji: pictographs and symbols (a text-font symbol only with U+FE0F),
# with their modifiers and ZWJ sequences, keycaps and flags.
_PICTO = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328"
    "\u23cf\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe"
    "\u2600-\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d"
    "\u3297\u3299\U0001f000-\U0001faff"
)
_ONE = f"[{_PICTO}][\ufe0e\ufe0f]?[\U0001f3fb-\U0001f3ff]?"
_EMOJI_RE = re.compile(f"[\U0001f1e6-\U0001f1ff]{{2}}|[0-9#*]\ufe0f?\u20e3|{_ONE}(?:\u200d{_ONE})*")
# Line-breaking rules (kinsoku): these never start a line, those never end one.
_NO_START = frozenset("，。、；：！？）］｝〕〉》」』】〗〙〟’”…‥・ー々,.;:!?)]}%")
_NO_END = frozenset("（［｛〔〈《「『【〖〘〝‘“([{$¥£€#")

# qrcode's mask penalty counts this finder-like run (dark 1:1:3:1:1, four light modules on
# one side) and its mirror image anywhere in a row or column.
_FINDER_LIKE = ((1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0), (0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1))
_QR_GREY = bytes([255, 0]) + bytes(254)  # module byte 0 (light) -> 255, 1 (dark) -> 0

_INVISIBLE = frozenset(("Cc", "Cf", "Cn", "Co", "Cs"))  # Unicode general categories

Font = ImageFont.FreeTypeFont


@dataclass(frozen=True)
class CardContent:
    """Everything printed on one card; equal contents give byte-identical PNGs."""

    activity_name: str
    activity_time: str
    material_type: str
    employee_name: str
    employee_title: str
    phone: str
    email: str
    share_url: str
    short_url: str
    headline: str | None = None
    caption: str = CAPTION


def _same_words(a: str, b: str) -> bool:
    """Equal but for case and spacing."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _units(text: str) -> list[str]:
    """Unbreakable pieces: each CJK character, each Latin word with its trailing spaces."""
    units: list[str] = []
    glue = False  # the previous piece ends with an opening bracket: join the next to it
    for token in _TOKEN_RE.findall(text):
        if units and (glue or token[0] in _NO_START or token.isspace()):
            units[-1] += token
        else:
            units.append(token)
        glue = token.rstrip()[-1:] in _NO_END
    return units


def text_length(font: Font, text: str) -> float:
    """The width of laid-out text: its letters in the font, each emoji EMOJI_ADVANCE em."""
    emoji = len(EMOJI_CODES.findall(text))
    if not emoji:
        return float(font.getlength(text))
    return float(font.getlength(EMOJI_CODES.sub("", text))) + emoji * EMOJI_ADVANCE * font.size


def _fit_prefix(text: str, font: Font, width: float) -> str:
    """The longest prefix (at least one character) no wider than width."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_length(font, text[:mid]) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def wrap(text: str, font: Font, width: float, max_lines: int) -> tuple[list[str], bool]:
    """Greedy CJK-aware line breaking; also says whether text was left over."""
    text = " ".join(text.split())
    lines: list[str] = []
    current = ""
    for unit in _units(text):
        trial = current + unit
        if text_length(font, trial.rstrip()) <= width:
            current = trial
            continue
        if current.strip():
            lines.append(current.rstrip())
            if len(lines) == max_lines:
                return lines, True
        current = unit
        while text_length(font, current.rstrip()) > width:  # a word wider than the line
            head = _fit_prefix(current, font, width)
            lines.append(head.rstrip())
            current = current[len(head) :]
            if len(lines) == max_lines:
                return lines, True
    if current.strip():
        lines.append(current.rstrip())
    return lines, False


def _ellipsis_after(text: str) -> str:
    # The SC font draws U+2026 centred, as Chinese wants it; after Latin, three full stops.
    return ELLIPSIS if _CJK_RE.fullmatch(text[-1:]) else "..."


def ellipsise(line: str, font: Font, width: float) -> str:
    """The line cut short enough to end in an ellipsis within width."""
    line = line.rstrip()
    while line and text_length(font, line + _ellipsis_after(line)) > width:
        line = line[:-1].rstrip()
    return line + _ellipsis_after(line)


def fit_text(text: str, fonts: list[Font], width: float, max_lines: int) -> tuple[list[str], Font]:
    """Lines at the largest font that needs no ellipsis, else ellipsised at the smallest."""
    lines: list[str] = []
    for font in fonts:
        lines, overflow = wrap(text, font, width, max_lines)
        if not overflow:
            return lines, font
    lines[-1] = ellipsise(lines[-1], fonts[-1], width)
    return lines, fonts[-1]


def initials(name: str) -> str:
    """Avatar letters: the last two characters of a CJK name, else first + last initial."""
    name = " ".join(EMOJI_CODES.sub(" ", name).split())
    if not name:
        return "?"
    if _CJK_RE.search(name):
        return name.replace(" ", "")[-2:]
    words = name.split()
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def _supersampled(
    size: tuple[int, int], paint: Callable[[ImageDraw.ImageDraw, int], None], scale: int = 4
) -> Image.Image:
    """An anti-aliased 'L' mask: painted at scale times the size, then reduced."""
    big = Image.new("L", (size[0] * scale, size[1] * scale), 0)
    paint(ImageDraw.Draw(big), scale)
    return big.reduce(scale)


def _rounded_mask(size: tuple[int, int], radius: int) -> Image.Image:
    def paint(draw: ImageDraw.ImageDraw, s: int) -> None:
        draw.rounded_rectangle((0, 0, size[0] * s - 1, size[1] * s - 1), radius * s, fill=255)

    return _supersampled(size, paint)


def _icon(kind: str, colour: RGB, size: int = ICON) -> Image.Image:
    """A small line icon (phone, mail, clock) as an RGBA image."""

    def paint(draw: ImageDraw.ImageDraw, s: int) -> None:
        u = size * s  # one icon-width in supersampled pixels
        w = max(1, round(u * 0.085))
        if kind == "phone":
            draw.rounded_rectangle(
                (u * 0.24, u * 0.04, u * 0.76, u * 0.96), u * 0.12, outline=255, width=w
            )
            draw.line((u * 0.42, u * 0.8, u * 0.58, u * 0.8), fill=255, width=w)
        elif kind == "mail":
            draw.rounded_rectangle(
                (u * 0.04, u * 0.18, u * 0.96, u * 0.82), u * 0.1, outline=255, width=w
            )
            draw.line(
                (u * 0.12, u * 0.28, u * 0.5, u * 0.56, u * 0.88, u * 0.28),
                fill=255,
                width=w,
                joint="curve",
            )
        else:  # clock
            draw.ellipse((u * 0.05, u * 0.05, u * 0.95, u * 0.95), outline=255, width=w)
            draw.line(
                (u * 0.5, u * 0.24, u * 0.5, u * 0.5, u * 0.7, u * 0.62),
                fill=255,
                width=w,
                joint="curve",
            )

    icon = Image.new("RGBA", (size, size), colour)
    icon.putalpha(_supersampled((size, size), paint))
    return icon


class _QRCode(qrcode.QRCode):  # type: ignore[misc]  # qrcode ships no type hints
    """qrcode's QRCode, keeping the matrix as it was before the data went in."""

    blank: list[list[bool | None]]

    def map_data(self, data: list[int], mask_pattern: int) -> None:
        self.blank = [row[:] for row in self.modules]  # None marks a data module
        super().map_data(data, mask_pattern)


def _pack(rows: Sequence[Sequence[object]]) -> int:
    """A square matrix's rows, then its columns, as one int of bits (1 for truthy).

    Each line takes size + 1 bits, module k at bit k; the spare bit keeps lines apart.
    Python's big-int operators then work on all lines at once, in C.
    """
    lines = [*rows, *zip(*rows, strict=True)]
    text = "0".join("".join("1" if module else "0" for module in line) for line in lines)
    return int(text[::-1], 2)


@functools.lru_cache(maxsize=320)
def _mask_bits(size: int, pattern: int) -> int:
    """The modules a mask pattern flips (where it lands on data), packed as _pack does."""
    flips = qrcode.util.mask_func(pattern)
    return _pack([[flips(i, j) for j in range(size)] for i in range(size)])


@functools.lru_cache(maxsize=40)
def _line_bits(size: int, width: int, lines: int) -> int:
    """The lowest width bits of each of the first lines lines, packed as _pack does."""
    return sum(((1 << width) - 1) << (line * (size + 1)) for line in range(lines))


_data_bits: dict[int, int] = {}  # size -> where the data modules are (fixed per version)


def _penalty(bits: int, size: int) -> int:
    """qrcode's util.lost_point of one test matrix packed by _pack, all lines at once."""
    lines = 2 * size
    # Runs of five or more like modules: 3 points, and 1 more for each further module.
    same = ~(bits ^ (bits >> 1)) & _line_bits(size, size - 1, lines)  # k, k+1 alike
    five = same & (same >> 1) & (same >> 2) & (same >> 3)  # k..k+4 alike
    runs = five.bit_count() + 2 * (five & ~(five << 1)).bit_count()
    # 2x2 blocks of like modules: 3 points each (rows only, so each block counts once).
    below = ~(bits ^ (bits >> (size + 1)))  # row r, module k is like row r + 1's
    blocks = (below & (below >> 1) & same & _line_bits(size, size - 1, size - 1)).bit_count()
    finders = 0
    for pattern in _FINDER_LIKE:
        found = _line_bits(size, size - 10, lines)
        for k, dark in enumerate(pattern):
            found &= bits >> k if dark else ~(bits >> k)
        finders += found.bit_count()
    # Dark share: 10 points for each whole 5% away from half.
    percent = float((bits & _line_bits(size, size, size)).bit_count()) / size**2
    balance = int(abs(percent * 100 - 50) / 5) * 10
    return runs + 3 * blocks + 40 * finders + balance


def _best_mask(qr: _QRCode) -> int:
    """The mask qrcode's best_mask_pattern picks (the first of the lowest penalty), faster.

    qrcode builds and scores all eight masked matrices module by module in Python (about
    4 ms of a card). Here the test matrix is built once, with mask 0: the eight differ only
    in data modules, so each is two big-int operations away from the unmasked one.
    """
    qr.makeImpl(True, 0)  # test mode, as best_mask_pattern: format and version bits light
    size = len(qr.modules)
    data = _data_bits.get(size)
    if data is None:
        data = _data_bits[size] = _pack([[m is None for m in row] for row in qr.blank])
    plain = _pack(qr.modules) ^ (data & _mask_bits(size, 0))
    scores = [_penalty(plain ^ (data & _mask_bits(size, p)), size) for p in range(8)]
    return scores.index(min(scores))


def qr_matrix(url: str) -> list[list[bool]]:
    """The URL's QR modules (level M, smallest version, qrcode's mask, 4-module quiet zone)."""
    qr = _QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    qr.best_fit()
    qr.mask_pattern = _best_mask(qr)
    qr.make(fit=False)
    matrix: list[list[bool]] = qr.get_matrix()
    return matrix


def qr_image(url: str, box: int) -> Image.Image:
    """The URL as a black-on-white 'L' QR image (level M, 4-module quiet zone) within box."""
    matrix = qr_matrix(url)
    n = len(matrix)
    small = Image.frombytes("L", (n, n), b"".join(map(bytes, matrix)).translate(_QR_GREY))
    scale = max(1, box // n)  # whole pixels per module keep the edges crisp for scanners
    return small.resize((n * scale, n * scale), Image.Resampling.NEAREST)


def _text_block(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    font: Font,
    x: float,
    top: float,
    fill: RGB,
    *,
    centred: bool = False,
    emoji: EmojiPainter | None = None,
) -> float:
    """Draw lines from top (em boxes spaced by LINE_SPACING); returns the block's bottom.
    A line holding emoji is drawn in runs, its emoji by `emoji` (else left out)."""
    size = font.size
    step = round(size * LINE_SPACING)
    first_baseline = top + (step - size) / 2 + EM_ASCENT * size
    for i, line in enumerate(lines):
        if EMOJI_CODES.search(line):
            baseline = first_baseline + i * step
            left = x - text_length(font, line) / 2 if centred else x
            for run in re.split(f"([{_CODES}])", line):
                if EMOJI_CODES.fullmatch(run):
                    if emoji is not None:
                        emoji(run, font, left, baseline)
                    left += EMOJI_ADVANCE * size
                elif run:
                    draw.text((left, baseline), run, font=font, fill=fill, anchor="ls")
                    left += font.getlength(run)
            continue
        draw.text(
            (x, first_baseline + i * step),
            line,
            font=font,
            fill=fill,
            anchor="ms" if centred else "ls",
        )
    return top + step * len(lines)


# Draws the emoji a private-use character stands for at (left, baseline) in a font's size.
EmojiPainter = Callable[[str, Font, float, float], None]


def _block_height(lines: list[str], font: Font) -> int:
    return round(font.size * LINE_SPACING) * len(lines)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def encode_png_unfiltered(image: Image.Image) -> bytes:
    """An RGB PNG with filter type 0 on every row, compressed by zlib strip by strip.

    Pillow's RGB PNG encoder picks a filter for every row by trying all five, which costs
    more than the compression itself on a card. Filter 0 needs no arithmetic: the IDAT data
    is each row's RGB bytes after a zero byte. Pillow's raw encoder writes exactly that,
    one byte early, when asked for rows one byte longer than the pixels (it zero-pads each
    row at its end). CardRenderer checks this once and otherwise falls back.
    """
    if image.mode != "RGB":
        raise ValueError(f"expected an RGB image, got {image.mode}")
    width, height = image.size
    deflate = zlib.compressobj(PNG_COMPRESS_LEVEL, zlib.DEFLATED, 15, PNG_MEM_LEVEL)
    idat = [deflate.compress(b"\x00")]  # the first row's filter type
    for top in range(0, height, PNG_STRIP_ROWS):
        bottom = min(height, top + PNG_STRIP_ROWS)
        rows = image.crop((0, top, width, bottom)).tobytes("raw", "RGB", width * 3 + 1)
        # Each row's padding byte is the next row's filter type; the last one is spare.
        idat.append(deflate.compress(rows if bottom < height else memoryview(rows)[:-1]))
    idat.append(deflate.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        [
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", b"".join(idat)),
            _chunk(b"IEND", b""),
        ]
    )


def encode_png(image: Image.Image) -> bytes:
    """Pillow's own RGB PNG encoding (adaptive row filters), with the card's settings."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _unfiltered_encoding_works() -> bool:
    """Whether encode_png_unfiltered round-trips here (it relies on the raw encoder's padding)."""
    probe = Image.new("RGB", (7, 5))
    probe.putdata(
        [((x * 37) % 256, (y * 53) % 256, (x * y * 11) % 256) for y in range(5) for x in range(7)]
    )
    try:
        with Image.open(io.BytesIO(encode_png_unfiltered(probe))) as decoded:
            return decoded.mode == "RGB" and decoded.tobytes() == probe.tobytes()
    except (OSError, SyntaxError, ValueError, struct.error):
        return False


class CardRenderer:
    """Renders share cards; one per process, safe to call from worker threads."""

    def __init__(
        self, fonts_dir: Path, *, cache_size: int = 256, emoji_font: Path | None = EMOJI_FONT
    ) -> None:
        self.regular_path = fonts_dir / REGULAR_FONT
        self.bold_path = fonts_dir / BOLD_FONT
        regular_sizes = {TIME_SIZE, ROLE_SIZE, CONTACT_SIZE, HEADLINE_SIZE, CAPTION_SIZE}
        bold_sizes = {PILL_SIZE, AVATAR_SIZE, *TITLE_SIZES, *NAME_SIZES, *URL_SIZES}
        self._regular = {s: ImageFont.truetype(str(self.regular_path), s) for s in regular_sizes}
        self._bold = {s: ImageFont.truetype(str(self.bold_path), s) for s in bold_sizes}
        self._backgrounds: dict[str, Image.Image] = {}  # caption -> the painted background
        self._backgrounds_lock = threading.Lock()
        self._icons = {
            "clock": _icon("clock", HEADER_TINT),
            "phone": _icon("phone", ACCENT),
            "mail": _icon("mail", ACCENT),
        }
        self._pill = _rounded_mask((PILL_H, PILL_H), PILL_H // 2)
        self._glyphs: dict[str, bool] = {}  # character -> the fonts draw it (not .notdef)
        self._notdef = self._probe("\ue000")  # private use: never in the fonts
        self._emoji_font = _load_emoji_font(emoji_font)
        self._emoji_codes: dict[str, str | None] = {}  # emoji -> its code (None: not drawable)
        self._emoji_glyphs: dict[str, Image.Image] = {}  # code -> RGBA at EMOJI_STRIKE
        self._emoji_sized: dict[tuple[str, int], Image.Image] = {}  # (code, px) -> RGBA
        # One FreeType face must not be used by two threads at once: layout and drawing
        # happen under this lock; the QR matrix and the PNG encoding (zlib) happen outside.
        self._draw_lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, CardContent], bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_size = cache_size
        self._encode = encode_png_unfiltered if _unfiltered_encoding_works() else encode_png
        self._spare: list[Image.Image] = []  # canvases for render, owned by one call at a time
        self._spare_lock = threading.Lock()

    # --- public --------------------------------------------------------------------------

    def render(self, content: CardContent) -> bytes:
        """The card as PNG bytes; repeat calls with equal content come from the cache."""
        key = (CARD_VERSION, content)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        with self._spare_lock:
            canvas = self._spare.pop() if self._spare else None
        background = self._background(content.caption)
        if canvas is None or canvas.size != background.size:
            canvas = background.copy()
        else:
            canvas.paste(background)
        self._paint(canvas, content)
        png = self._encode(canvas)
        with self._spare_lock:
            if len(self._spare) < SPARE_CANVASES:
                self._spare.append(canvas)
        if self._cache_size > 0:
            with self._cache_lock:
                self._cache[key] = png
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return png

    def draw(self, content: CardContent) -> Image.Image:
        """The card as a new RGB image (uncached)."""
        image = self._background(content.caption).copy()
        self._paint(image, content)
        return image

    def _background(self, caption: str) -> Image.Image:
        """The background with `caption` under the QR code, painted once per caption."""
        with self._backgrounds_lock:
            background = self._backgrounds.get(caption)
            if background is None:
                with self._draw_lock:
                    background = self._paint_background(self._printable(caption))
                self._backgrounds[caption] = background
            return background

    def _paint(self, image: Image.Image, content: CardContent) -> None:
        """Everything that differs between cards, onto a copy of the background."""
        qr = qr_image(content.share_url, QR_BOX)
        image.paste(
            qr,
            (
                (QR_CARD_BOX[0] + QR_CARD_BOX[2] - qr.width) // 2,
                (QR_CARD_BOX[1] + QR_CARD_BOX[3] - qr.height) // 2,
            ),
        )
        with self._draw_lock:
            printable = self._printed(content)
            draw = ImageDraw.Draw(image)
            self._draw_header(image, draw, printable)
            self._draw_employee(image, draw, printable)
            self._draw_footer(image, draw, printable)

    def printed(self, content: CardContent) -> CardContent:
        """What the card prints of `content` (see _printed)."""
        with self._draw_lock:
            return self._printed(content)

    def _printed(self, content: CardContent) -> CardContent:
        """Each text as laid out: without what the fonts lack, emoji as their codes, words
        single-spaced (a dropped emoji leaves no gap), the headline blank when it only
        repeats the name. Call under _draw_lock."""

        def printable(text: str) -> str:
            return " ".join(self._printable(text).split())

        printed = replace(
            content,
            activity_name=printable(content.activity_name),
            activity_time=printable(content.activity_time),
            material_type=printable(content.material_type),
            employee_name=printable(content.employee_name),
            employee_title=printable(content.employee_title),
            phone=printable(content.phone),
            email=printable(content.email),
            short_url=printable(content.short_url),
            headline=printable(content.headline or ""),
        )
        if _same_words(printed.headline or "", printed.activity_name):
            # An activity without its own headline stores its name there: print it once.
            printed = replace(printed, headline="")
        return printed

    @property
    def draws_emoji(self) -> bool:
        """Whether emoji are drawn (the emoji font loaded) rather than left out."""
        return self._emoji_font is not None

    def _printable(self, text: str) -> str:
        """Text without characters the fonts lack (rare scripts, emoji without the emoji
        font): no tofu boxes. Emoji the emoji font draws become their codes (EMOJI_CODES).

        An accented letter the fonts lack keeps its base letter (NFKD). Call under _draw_lock.
        Spaces left around a dropped character close up when the text is wrapped (`_units`).
        """
        out: list[str] = []
        start = 0
        for match in _EMOJI_RE.finditer(text):
            out.append(self._plain(text[start : match.start()]))
            out.append(self._emoji_code(match.group()) or self._plain(match.group()))
            start = match.end()
        out.append(self._plain(text[start:]))
        return "".join(out)

    def _emoji_code(self, emoji: str) -> str | None:
        """The code standing for `emoji` in laid-out text; None when it is text (a symbol
        the text font has, without U+FE0F; U+FE0E asks for text) or cannot be drawn."""
        if self._emoji_font is None or "\ufe0e" in emoji:
            return None
        if len(emoji) == 1 and self._has_glyph(emoji):
            return None
        if emoji not in self._emoji_codes:
            glyph = self._draw_emoji(emoji) if len(self._emoji_glyphs) < EMOJI_MAX else None
            code = None
            if glyph is not None:
                code = chr(0xF0000 + len(self._emoji_glyphs))
                self._emoji_glyphs[code] = glyph
            self._emoji_codes[emoji] = code
        return self._emoji_codes[emoji]

    def _draw_emoji(self, emoji: str) -> Image.Image | None:
        """The emoji in colour at EMOJI_STRIKE px, or None if the font does not draw it as
        one glyph (a sequence it has no ligature for, a character it lacks)."""
        font = self._emoji_font
        assert font is not None
        left, top, right, bottom = (round(v) for v in font.getbbox(emoji))
        if right <= left or right - left > EMOJI_ADVANCE * 1.2 * EMOJI_STRIKE:
            return None
        glyph = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((-left, -top), emoji, font=font, embedded_color=True)
        alpha = glyph.getchannel("A")
        if alpha.getbbox() is None:
            return None
        colours = glyph.convert("RGB").getcolors(maxcolors=4)
        if colours is not None and len(colours) <= 2:  # a monochrome box: .notdef
            return None
        return glyph

    def _emoji_painter(self, image: Image.Image) -> EmojiPainter:
        """Pastes emoji onto `image` (call under _draw_lock, as all drawing)."""

        def paint(code: str, font: Font, left: float, baseline: float) -> None:
            size = round(font.size)
            sized = self._emoji_sized.get((code, size))
            if sized is None:
                glyph = self._emoji_glyphs[code]
                scale = EMOJI_ADVANCE * size / glyph.width
                target = (round(glyph.width * scale), round(glyph.height * scale))
                # Premultiplied while scaling, so transparent edges do not darken.
                sized = glyph.convert("RGBa").resize(target, Image.Resampling.LANCZOS)
                sized = sized.convert("RGBA")
                self._emoji_sized[(code, size)] = sized
            top = baseline - EMOJI_CENTRE * size - sized.height / 2
            image.paste(sized, (round(left), round(top)), sized)

        return paint

    def _plain(self, text: str) -> str:
        """`text` without the characters the text fonts lack (see _printable)."""
        out: list[str] = []
        for char in text:
            if self._has_glyph(char):
                out.append(char)
            else:
                base = unicodedata.normalize("NFKD", char)
                out.extend(c for c in base if c != char and self._has_glyph(c))
        return "".join(out)

    # --- painting ------------------------------------------------------------------------

    def _probe(self, char: str) -> bytes:
        image = Image.new("L", (CAPTION_SIZE * 2, CAPTION_SIZE * 2))
        ImageDraw.Draw(image).text((2, 2), char, font=self._regular[CAPTION_SIZE], fill=255)
        return image.tobytes()

    def _has_glyph(self, char: str) -> bool:
        known = self._glyphs.get(char)
        if known is None:
            # Both weights are cut from the same code points, so one probe answers for both.
            if char.isspace():
                known = True
            elif unicodedata.category(char) in _INVISIBLE or "\ufe00" <= char <= "\ufe0f":
                known = False  # joiners, variation selectors (emoji style), controls
            else:
                known = self._probe(char) != self._notdef
            self._glyphs[char] = known
        return known

    # --- painting ------------------------------------------------------------------------

    def _paint_background(self, caption: str) -> Image.Image:
        image = Image.new("RGB", (WIDTH, HEIGHT), PAGE)
        # Header band: a diagonal gradient with two soft circles for depth.
        ramp = Image.linear_gradient("L")
        diagonal = Image.blend(
            ramp.resize((WIDTH, BAND_H)),
            ramp.transpose(Image.Transpose.TRANSPOSE).resize((WIDTH, BAND_H)),
            0.5,
        )
        band = Image.composite(
            Image.new("RGB", (WIDTH, BAND_H), BAND_TO),
            Image.new("RGB", (WIDTH, BAND_H), BAND_FROM),
            diagonal,
        )

        def circles(draw: ImageDraw.ImageDraw, s: int) -> None:
            draw.ellipse(((WIDTH - 260) * s, -300 * s, (WIDTH + 260) * s, 220 * s), fill=26)
            draw.ellipse(((WIDTH - 120) * s, 250 * s, (WIDTH + 160) * s, 530 * s), fill=18)
            draw.ellipse((-140 * s, 420 * s, 140 * s, 700 * s), fill=14)

        band.paste(WHITE, (0, 0, WIDTH, BAND_H), _supersampled((WIDTH, BAND_H), circles, 2))
        image.paste(band, (0, 0))
        self._paint_card(image, CARD_BOX, CARD_RADIUS)
        self._paint_card(image, QR_CARD_BOX, 32)

        def avatar(draw: ImageDraw.ImageDraw, s: int) -> None:
            draw.ellipse((0, 0, AVATAR_D * s - 1, AVATAR_D * s - 1), fill=255)

        image.paste(
            ACCENT_SOFT,
            (AVATAR_CX - AVATAR_D // 2, AVATAR_CY - AVATAR_D // 2),
            _supersampled((AVATAR_D, AVATAR_D), avatar),
        )
        # The caption is the same on every card in a language and nothing else is drawn over it.
        caption_font = self._regular[CAPTION_SIZE]
        draw = ImageDraw.Draw(image)
        _text_block(
            draw,
            [caption],
            caption_font,
            WIDTH / 2,
            CAPTION_TOP,
            MUTED,
            centred=True,
            emoji=self._emoji_painter(image),
        )
        return image

    @staticmethod
    def _paint_card(image: Image.Image, box: tuple[int, int, int, int], radius: int) -> None:
        """A white rounded card with a soft drop shadow."""
        x0, y0, x1, y1 = box
        size = (x1 - x0, y1 - y0)
        mask = _rounded_mask(size, radius)
        blur = 28
        shadow = Image.new("L", (size[0] + 4 * blur, size[1] + 4 * blur), 0)
        shadow.paste(mask.point(lambda v: v * 30 // 255), (2 * blur, 2 * blur))
        shadow = shadow.filter(ImageFilter.GaussianBlur(blur / 2))
        image.paste(SHADOW, (x0 - 2 * blur, y0 - 2 * blur + 14), shadow)
        image.paste(WHITE, (x0, y0), mask)

    def _draw_header(self, image: Image.Image, draw: ImageDraw.ImageDraw, c: CardContent) -> None:
        width = WIDTH - 2 * MARGIN
        label = " ".join(EMOJI_CODES.sub(" ", c.material_type).split())
        if label:
            font = self._bold[PILL_SIZE]
            label = fit_text(label, [font], width - 2 * PILL_PAD, 1)[0][0]
            pill_w = round(font.getlength(label)) + 2 * PILL_PAD
            half = PILL_H // 2
            left = self._pill.crop((0, 0, half, PILL_H))
            right = self._pill.crop((half, 0, PILL_H, PILL_H))
            image.paste(WHITE, (MARGIN, PILL_Y), left)
            draw.rectangle(
                (MARGIN + half, PILL_Y, MARGIN + pill_w - half - 1, PILL_Y + PILL_H - 1), fill=WHITE
            )
            image.paste(WHITE, (MARGIN + pill_w - half, PILL_Y), right)
            draw.text(
                (MARGIN + pill_w / 2, PILL_Y + PILL_H / 2),
                label,
                font=font,
                fill=ACCENT,
                anchor="mm",
            )

        name_lines, name_font = fit_text(
            c.activity_name, [self._bold[s] for s in TITLE_SIZES], width, TITLE_LINES
        )
        time_font = self._regular[TIME_SIZE]
        time_x = MARGIN + ICON + 14
        time_lines = fit_text(c.activity_time, [time_font], WIDTH - MARGIN - time_x, TIME_LINES)[0]
        gap = 22 if name_lines and time_lines else 0
        height = _block_height(name_lines, name_font) + gap + _block_height(time_lines, time_font)
        top = (HEADER_TOP + HEADER_BOTTOM - height) / 2
        emoji = self._emoji_painter(image)
        top = _text_block(draw, name_lines, name_font, MARGIN, top, WHITE, emoji=emoji) + gap
        if time_lines:
            step = round(TIME_SIZE * LINE_SPACING)
            image.paste(
                self._icons["clock"], (MARGIN, round(top + (step - ICON) / 2)), self._icons["clock"]
            )
            _text_block(draw, time_lines, time_font, time_x, top, HEADER_TINT, emoji=emoji)

    def _draw_employee(self, image: Image.Image, draw: ImageDraw.ImageDraw, c: CardContent) -> None:
        draw.text(
            (AVATAR_CX, AVATAR_CY),
            initials(c.employee_name),
            font=self._bold[AVATAR_SIZE],
            fill=ACCENT,
            anchor="mm",
        )
        width = INFO_RIGHT - INFO_X
        name_lines, name_font = fit_text(
            c.employee_name, [self._bold[s] for s in NAME_SIZES], width, NAME_LINES
        )
        role_font = self._regular[ROLE_SIZE]
        role_lines = fit_text(c.employee_title, [role_font], width, 3 - len(name_lines))[0]
        contact_font = self._regular[CONTACT_SIZE]
        contact_w = width - ICON - 14
        contacts = [
            (icon, fit_text(value, [contact_font], contact_w, 1)[0])
            for icon, value in (("phone", c.phone), ("mail", c.email))
            if value.strip()
        ]
        step = round(CONTACT_SIZE * LINE_SPACING) + 4
        gaps = (6 if role_lines else 0) + (16 if contacts else 0)
        height = (
            _block_height(name_lines, name_font)
            + _block_height(role_lines, role_font)
            + gaps
            + step * len(contacts)
        )
        top = (INFO_TOP + INFO_BOTTOM - height) / 2
        emoji = self._emoji_painter(image)
        top = _text_block(draw, name_lines, name_font, INFO_X, top, INK, emoji=emoji)
        if role_lines:
            top = _text_block(draw, role_lines, role_font, INFO_X, top + 6, MUTED, emoji=emoji)
        top += 16
        for icon, lines in contacts:
            image.paste(
                self._icons[icon], (INFO_X, round(top + (step - ICON) / 2)), self._icons[icon]
            )
            _text_block(
                draw, lines, contact_font, INFO_X + ICON + 14, top + 2, INK_SOFT, emoji=emoji
            )
            top += step

    def _draw_footer(self, image: Image.Image, draw: ImageDraw.ImageDraw, c: CardContent) -> None:
        width = WIDTH - 2 * MARGIN
        emoji = self._emoji_painter(image)
        if c.headline and c.headline.strip():
            font = self._regular[HEADLINE_SIZE]
            lines = fit_text(c.headline, [font], width, HEADLINE_LINES)[0]
            top = (HEADLINE_TOP + HEADLINE_BOTTOM - _block_height(lines, font)) / 2
            _text_block(draw, lines, font, WIDTH / 2, top, INK_SOFT, centred=True, emoji=emoji)
        url_lines, url_font = fit_text(c.short_url, [self._bold[s] for s in URL_SIZES], width, 1)
        _text_block(
            draw, url_lines, url_font, WIDTH / 2, SHORT_URL_TOP, ACCENT, centred=True, emoji=emoji
        )


def _load_emoji_font(path: Path | None) -> Font | None:
    """Noto Color Emoji at its one bitmap size, or None (emoji are then left out)."""
    if path is None:
        return None
    try:
        return ImageFont.truetype(str(path), EMOJI_STRIKE)
    except OSError as exc:  # absent (fonts-noto-color-emoji not installed) or unreadable
        log.info("share cards leave emoji out: no colour emoji font at %s (%s)", path, exc)
        return None
