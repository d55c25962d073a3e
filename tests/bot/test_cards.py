"""Share cards: size, scannable QR, real CJK glyphs, wrapping, caching, thread safety."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import struct
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import qrcode
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from assets import FONTS_DIR
from bot.cards import (
    BOLD_FONT,
    CAPTION,
    CARD_BOX,
    EMOJI_CODES,
    EMOJI_FONT,
    HEADLINE_BOTTOM,
    HEADLINE_TOP,
    INFO_RIGHT,
    INFO_X,
    MARGIN,
    QR_CARD_BOX,
    REGULAR_FONT,
    CardContent,
    CardRenderer,
    encode_png,
    encode_png_unfiltered,
    fit_text,
    initials,
    qr_matrix,
    wrap,
)
from bot.i18n import translate

LATIN = CardContent(
    activity_name="Annual Partner Summit 2026",
    activity_time="Tue 1 Dec 2026, 14:00–16:00 (Europe/London)",
    material_type="Event invitation",
    employee_name="Ann Lee",
    employee_title="Senior Account Executive",
    phone="+44 20 7946 0958",
    email="ann.lee@example.com",
    share_url="http://127.0.0.1:8080/s/AAEAAcVfW2n0b6Hx",
    short_url="127.0.0.1:8080/s/AAEAAcVfW2n0b6Hx",
    headline="See the 2026 line-up first.",
)
CJK = dataclasses.replace(
    LATIN,
    activity_name="2026 新品发布会",
    employee_name="李雷",
    employee_title="市场经理",
    material_type="活动邀请",
    headline="与行业伙伴一起探索智能制造的下一步。",
    share_url="http://127.0.0.1:8080/s/AAIAAZq3Jw0dPZ1x",
    short_url="127.0.0.1:8080/s/AAIAAZq3Jw0dPZ1x",
)
LONG = dataclasses.replace(
    LATIN,
    activity_name="2026 全球合作伙伴大会暨新品发布会：" * 6 + "Smart Manufacturing " * 8,
    activity_time="Tue 1 Dec 2026, 14:00 – Wed 2 Dec 2026, 18:00 " * 4,
    material_type="Event invitation " * 10,
    employee_name="Maximilian Alexander Christopher Montgomery-Wolfeschlegelsteinhausen " * 3,
    employee_title="高级副总裁，全球战略合作与企业客户成功 " * 5,
    phone="+86 138 0013 8000 " * 6,
    email="maximilian.alexander.christopher.montgomery@a-very-long-subdomain.example.com",
    headline="一起探索智能制造的下一步 and what comes next " * 10,
)


@pytest.fixture(scope="module")
def renderer() -> CardRenderer:
    return CardRenderer(FONTS_DIR)


@pytest.fixture(scope="module")
def without_emoji_font() -> CardRenderer:
    """A machine without fonts-noto-color-emoji: emoji are left out."""
    renderer = CardRenderer(FONTS_DIR, emoji_font=FONTS_DIR / "no-such-emoji-font.ttf")
    assert not renderer.draws_emoji
    return renderer


def image_of(png: bytes) -> Image.Image:
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGB")


def test_card_is_a_portrait_png_at_least_1080_wide(renderer: CardRenderer) -> None:
    png = renderer.render(LATIN)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = image_of(png)
    assert image.width >= 1080
    assert image.height > image.width


def test_png_stream_is_plain_8_bit_rgb(renderer: CardRenderer) -> None:
    """Decode the IDAT without Pillow: RGB, filter 0 on every row, the drawn pixels."""
    png = encode_png_unfiltered(renderer.draw(CJK))
    chunks: dict[bytes, bytes] = {}
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack_from(">I", png, pos)
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", png, pos + 8 + length)
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = chunks.get(kind, b"") + data
        pos += 12 + length
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * 3 + 1
    assert len(raw) == stride * height
    assert all(raw[row * stride] == 0 for row in range(height))
    pixels = b"".join(raw[row * stride + 1 : (row + 1) * stride] for row in range(height))
    assert pixels == renderer.draw(CJK).tobytes()


def test_unfiltered_and_pillow_encodings_agree(renderer: CardRenderer) -> None:
    drawn = renderer.draw(LATIN)
    fast = image_of(encode_png_unfiltered(drawn))
    assert fast.tobytes() == image_of(encode_png(drawn)).tobytes() == drawn.tobytes()


@pytest.mark.parametrize(
    "content",
    [
        LATIN,
        CJK,
        LONG,
        dataclasses.replace(
            LATIN, share_url="https://share.example.com/s/" + "AbCdEfGhIjKlMnOpQrStUvWxYz" * 4
        ),
        dataclasses.replace(
            CJK, share_url="https://share.example.com/s/" + "李雷-AbCdEfGh_0123456789?x=" * 12
        ),
    ],
    ids=["latin", "cjk", "long-text", "long-url", "cjk-very-long-url"],
)
def test_qr_decodes_to_exactly_the_share_url(renderer: CardRenderer, content: CardContent) -> None:
    found = zxingcpp.read_barcodes(image_of(renderer.render(content)))
    assert [(b.format, b.text) for b in found] == [
        (zxingcpp.BarcodeFormat.QRCode, content.share_url)
    ]


@pytest.mark.parametrize("length", [1, 17, 40, 90, 150, 260, 420])
def test_qr_matrix_is_the_one_qrcode_makes(length: int) -> None:
    """Same version, same mask (qrcode's choice, found faster), so the same modules."""
    url = "https://share.example.com/s/" + ("AbC0-9xYz_" * 50)[:length]
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    assert qr_matrix(url) == qr.get_matrix()


def test_qr_sits_inside_its_white_card(renderer: CardRenderer) -> None:
    found = zxingcpp.read_barcodes(image_of(renderer.render(CJK)))
    pos = found[0].position
    for point in (pos.top_left, pos.top_right, pos.bottom_left, pos.bottom_right):
        assert QR_CARD_BOX[0] < point.x < QR_CARD_BOX[2]
        assert QR_CARD_BOX[1] < point.y < QR_CARD_BOX[3]


CJK_STRINGS = [
    "李雷",
    "市场经理",
    "2026 新品发布会",
    translate(CAPTION, locale="zh"),  # the caption a Chinese activity's card prints
    CJK.headline or "",
]


@pytest.mark.parametrize("font_file", [REGULAR_FONT, BOLD_FONT])
def test_bundled_font_maps_every_character(font_file: str) -> None:
    with TTFont(FONTS_DIR / font_file, lazy=True) as font:
        cmap = font.getBestCmap()
    for text in CJK_STRINGS:
        assert [c for c in text if ord(c) not in cmap] == []
    gb2312 = set()
    for row in range(0xB0, 0xF8):  # level-1 and level-2 hanzi
        for cell in range(0xA1, 0xFF):
            try:
                gb2312.add(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    assert len(gb2312) == 6763
    assert sorted(c for c in gb2312 if ord(c) not in cmap) == []


@pytest.mark.parametrize("font_file", [REGULAR_FONT, BOLD_FONT])
def test_cjk_glyphs_are_not_tofu(font_file: str) -> None:
    font = ImageFont.truetype(str(FONTS_DIR / font_file), 48)

    def glyph(char: str) -> bytes:
        image = Image.new("L", (64, 80))
        ImageDraw.Draw(image).text((4, 4), char, font=font, fill=255)
        assert image.getbbox() is not None, char  # something was drawn
        return image.tobytes()

    notdef = glyph("\ue000")  # private use: not in the font, drawn as .notdef (a box)
    for text in CJK_STRINGS:
        for char in text.replace(" ", ""):
            assert glyph(char) != notdef, char


def test_characters_the_fonts_lack_are_left_out_not_drawn_as_tofu(
    renderer: CardRenderer, without_emoji_font: CardRenderer
) -> None:
    def card(renderer: CardRenderer, name: str, title: str) -> bytes:
        return renderer.render(dataclasses.replace(LATIN, employee_name=name, employee_title=title))

    assert card(renderer, "Ann Lee", "Sales 한국") == card(renderer, "Ann Lee", "Sales")
    assert card(without_emoji_font, "Ann Lee 🌴", "Sales 한국 ✈️") == card(
        without_emoji_font, "Ann Lee", "Sales"
    )
    assert card(renderer, "Antonín Dvořák", "") == card(renderer, "Antonín Dvorák", "")  # ř: r


def test_left_out_emoji_leave_no_gap(without_emoji_font: CardRenderer) -> None:
    """Without the emoji font, emoji are dropped and the spaces around them close up, so
    no text starts with a blank or has a hole where one was."""
    renderer = without_emoji_font

    def card(name: str, headline: str) -> bytes:
        return renderer.render(dataclasses.replace(LATIN, activity_name=name, headline=headline))

    printed = renderer.printed(
        dataclasses.replace(LATIN, activity_name="🎉 Spring launch 🚀 party", headline="a 🎉 b")
    )
    assert (printed.activity_name, printed.headline) == ("Spring launch party", "a b")

    assert card("🎉 Spring launch 🚀 party", "☕️ Coffee and demos") == card(
        "Spring launch party", "Coffee and demos"
    )


def test_an_empty_headline_does_not_repeat_the_title(renderer: CardRenderer) -> None:
    """The store keeps the name as the headline when none was given: printed once only."""
    repeated = dataclasses.replace(LATIN, headline=" annual partner  SUMMIT 2026 ")
    assert renderer.render(repeated) == renderer.render(dataclasses.replace(LATIN, headline=None))
    assert renderer.render(LATIN) != renderer.render(dataclasses.replace(LATIN, headline=None))


def test_cjk_name_and_title_are_drawn(renderer: CardRenderer) -> None:
    def ink(content: CardContent) -> int:
        info = image_of(renderer.render(content)).crop(
            (INFO_X, CARD_BOX[1] + 30, INFO_RIGHT, CARD_BOX[1] + 150)
        )
        return sum(info.convert("L").point(lambda v: 255 if v < 160 else 0).histogram()[255:])

    blank = ink(dataclasses.replace(CJK, employee_name="", employee_title=""))
    assert ink(CJK) > blank + 500


def test_long_text_wraps_and_ellipsises_within_the_width() -> None:
    font = ImageFont.truetype(str(FONTS_DIR / BOLD_FONT), 56)
    for text in (LONG.activity_name, LONG.employee_name, LONG.employee_title, "x" * 400):
        lines, overflow = wrap(text, font, 600, 3)
        assert overflow and len(lines) == 3
        assert all(font.getlength(line) <= 600 for line in lines)
        fitted, used = fit_text(text, [font], 600, 3)
        assert len(fitted) == 3 and fitted[-1].endswith(("…", "..."))
        assert all(used.getlength(line) <= 600 for line in fitted)


def test_line_breaking_rules() -> None:
    font = ImageFont.truetype(str(FONTS_DIR / REGULAR_FONT), 40)
    lines, overflow = wrap("Annual Partner Summit Twenty Twenty-Six", font, 260, 9)
    assert not overflow
    assert " ".join(lines) == "Annual Partner Summit Twenty Twenty-Six"  # broke at spaces only
    lines, _ = wrap("新品发布会，智能制造。数字化转型", font, 200, 9)
    assert "".join(lines) == "新品发布会，智能制造。数字化转型"
    assert all(font.getlength(line) <= 200 for line in lines)
    assert len(lines) > 2 and not any(line[0] in "，。" for line in lines)
    assert wrap("  ", font, 200, 2) == ([], False)


def test_long_card_text_stays_inside_the_layout(renderer: CardRenderer) -> None:
    """Overflowing text would change pixels in the right margins; they match a short card."""
    long_card, short_card = image_of(renderer.render(LONG)), image_of(renderer.render(LATIN))
    right = long_card.width - MARGIN + 4
    for strip in (
        (right, 0, long_card.width, CARD_BOX[1]),  # header: pill, activity name, time
        (INFO_RIGHT + 4, CARD_BOX[1], long_card.width, CARD_BOX[3]),  # name, title, contact
        (right, CARD_BOX[3], long_card.width, QR_CARD_BOX[1]),  # headline
    ):
        assert long_card.crop(strip).tobytes() == short_card.crop(strip).tobytes(), strip


def test_empty_optional_fields_render(renderer: CardRenderer) -> None:
    bare = dataclasses.replace(
        LATIN, material_type="", employee_title="", phone="", email="", headline=None
    )
    assert image_of(renderer.render(bare)).width >= 1080
    assert renderer.render(bare) == renderer.render(dataclasses.replace(bare, headline=" "))


def test_cache_hit_returns_identical_bytes_fast(renderer: CardRenderer) -> None:
    first = renderer.render(CJK)
    again = renderer.render(dataclasses.replace(CJK))  # equal, not the same object
    assert again == first
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        renderer.render(CJK)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.001


def test_uncached_render_is_deterministic() -> None:
    a = CardRenderer(FONTS_DIR, cache_size=0)
    assert a.render(LATIN) == a.render(LATIN)


def test_a_reused_canvas_keeps_nothing_of_the_last_card() -> None:
    """Renders paint on spare canvases; each must start from the plain background."""
    reused = CardRenderer(FONTS_DIR, cache_size=0)
    reused.render(LONG)
    png = reused.render(LATIN)
    assert png == CardRenderer(FONTS_DIR, cache_size=0).render(LATIN)
    assert image_of(png).tobytes() == reused.draw(LATIN).tobytes()


@pytest.mark.parametrize(
    "field, value",
    [
        ("activity_name", "Annual Partner Summit 2027"),
        ("activity_time", "Wed 2 Dec 2026, 14:00–16:00 (Europe/London)"),
        ("material_type", "Poster"),
        ("employee_name", "Ann Leigh"),
        ("employee_title", "Account Executive"),
        ("phone", "+44 20 7946 0959"),
        ("email", "ann@example.com"),
        ("share_url", "http://127.0.0.1:8080/s/AAEAAcVfW2n0b6Hy"),
        ("short_url", "127.0.0.1:8080/s/AAEAAcVfW2n0b6Hy"),
        ("headline", None),
    ],
)
def test_different_content_gives_different_bytes(
    renderer: CardRenderer, field: str, value: str | None
) -> None:
    changed: dict[str, Any] = {field: value}
    assert renderer.render(dataclasses.replace(LATIN, **changed)) != renderer.render(LATIN)


def test_lru_evicts_the_least_recently_used() -> None:
    small = CardRenderer(FONTS_DIR, cache_size=2)
    a, b, c = (dataclasses.replace(LATIN, employee_name=n) for n in ("A", "B", "C"))
    png_a, png_b = small.render(a), small.render(b)
    assert small.render(a) is png_a  # hit: a is now the most recent
    small.render(c)  # evicts b
    assert small.render(a) is png_a
    again = small.render(b)  # rendered anew: equal bytes, another object
    assert again == png_b and again is not png_b


def test_concurrent_renders_match_serial_ones() -> None:
    contents = [dataclasses.replace(CJK, employee_name=f"李雷{i}") for i in range(8)]
    serial = [CardRenderer(FONTS_DIR, cache_size=0).render(c) for c in contents]
    shared = CardRenderer(FONTS_DIR, cache_size=0)
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(shared.render, contents * 2)) == serial * 2


async def test_render_from_a_worker_thread(renderer: CardRenderer) -> None:
    png = await asyncio.to_thread(renderer.render, CJK)
    assert png == renderer.render(CJK)


def test_avatar_initials() -> None:
    assert initials("李雷") == "李雷"
    assert initials("欧阳小明") == "小明"
    assert initials("Ann Lee") == "AL"
    assert initials("ann") == "A"
    assert initials("  ") == "?"


def _colourful(image: Image.Image) -> list[tuple[int, int]]:
    """Pixels no text colour of the card has: strongly saturated (the ink is grey-blue)."""
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    found = []
    for y in range(height):
        for x in range(width):
            r, g, b = pixels[x, y]
            if max(r, g, b) - min(r, g, b) > 90:
                found.append((x, y))
    return found


@pytest.mark.skipif(not EMOJI_FONT.exists(), reason="fonts-noto-color-emoji not installed")
def test_emoji_are_drawn_in_colour_where_they_stand(
    renderer: CardRenderer, without_emoji_font: CardRenderer
) -> None:
    """🎉 in the headline is drawn in colour between the words around it: not left out
    (no gap), not a box (tofu is one grey), and the laid-out text has single spaces."""
    content = dataclasses.replace(LATIN, headline="Launch party 🎉 tonight")
    printed = renderer.printed(content)
    assert printed.headline is not None and "  " not in printed.headline
    assert len(EMOJI_CODES.findall(printed.headline)) == 1
    assert EMOJI_CODES.sub("", printed.headline) == "Launch party  tonight"  # one code, spaced

    band = (0, HEADLINE_TOP, 1080, HEADLINE_BOTTOM)
    headline = image_of(renderer.render(content)).crop(band)
    colour = _colourful(headline)
    assert len(colour) > 200  # the emoji, in colour
    assert len({headline.getpixel(xy) for xy in colour}) > 40  # many colours: a picture
    left = min(x for x, _ in colour)
    right = max(x for x, _ in colour)
    ink = headline.convert("L").point(lambda v: 255 if v < 150 else 0)
    columns = [x for x in range(headline.width) if ink.crop((x, 0, x + 1, ink.height)).getbbox()]
    before = max(x for x in columns if x < left)  # the "y" of "party"
    after = min(x for x in columns if x > right)  # the "t" of "tonight"
    assert 4 < left - before < 24 and 4 < after - right < 24  # a space's width, no hole
    assert right - left < 48  # one emoji, about the text's height

    plain = image_of(without_emoji_font.render(content)).crop(band)
    assert _colourful(plain) == []  # what the headline was before: the emoji left out
    assert renderer.render(dataclasses.replace(LATIN, headline="Launch party tonight")) == (
        without_emoji_font.render(dataclasses.replace(LATIN, headline="Launch party tonight"))
    )  # text without emoji is drawn exactly as before


@pytest.mark.skipif(not EMOJI_FONT.exists(), reason="fonts-noto-color-emoji not installed")
def test_emoji_everywhere_on_the_card_stay_inside_the_layout(renderer: CardRenderer) -> None:
    wild = dataclasses.replace(
        LATIN,
        activity_name="🎉" * 80,
        employee_name="🌴 Ann 👩‍👩‍👧 Lee 🇨🇳",
        employee_title="✈️ ©️ 1️⃣ ☆ ❤",
        material_type="🎟️ Ticket",
        headline="👍🏽 " * 60,
    )
    printed = renderer.printed(wild)
    assert initials(printed.employee_name) == "AL"  # the avatar has no emoji
    assert len(EMOJI_CODES.findall(printed.employee_name)) == 3  # a ZWJ family is one
    image = image_of(renderer.render(wild))
    assert image.size == (1080, 1620)
    assert renderer.draw(wild).tobytes() == image.tobytes()  # deterministic
    # The headline's 60 emoji fit its two lines, ellipsised, inside the margins.
    headline = image.crop((0, HEADLINE_TOP, 1080, HEADLINE_BOTTOM))
    xs = [x for x, _ in _colourful(headline)]
    assert xs and min(xs) >= MARGIN - 2 and max(xs) <= 1080 - MARGIN + 2
