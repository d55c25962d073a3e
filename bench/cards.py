"""Share-card rendering speed, against baselines measured in the same run.

Run: python bench/cards.py   (about 15 s)

Uncached renders use fresh content every time (a new share URL and name), so the card
cache never answers; cached renders repeat one content. Baselines, same process, same run:
  blank PNG  Pillow's ordinary PNG save of a blank card-sized RGB image with the card's
             settings (optimize=False, compress_level=PNG_COMPRESS_LEVEL): the ratio column
  qrcode     qrcode's own PIL factory (make_image + save) for the same kind of URL; and
             (ref) qrcode's matrix alone, make(fit=True), against the card's qr_matrix
  Pillow RGB Pillow's ordinary PNG save of a drawn card (what render would pay without
             the unfiltered encoder)
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cards import (  # noqa: E402
    HEIGHT,
    PNG_COMPRESS_LEVEL,
    QR_BOX,
    WIDTH,
    CardContent,
    CardRenderer,
    encode_png,
    encode_png_unfiltered,
    qr_image,
    qr_matrix,
)

UNCACHED_RUNS = 150
CACHED_RUNS = 5000
BASELINE_RUNS = 60


def timings(fn: Callable[[int], object], runs: int, warmup: int = 5) -> list[float]:
    for i in range(warmup):
        fn(10**7 + i)
    out = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def latin(i: int) -> CardContent:
    return CardContent(
        activity_name="Annual Partner Summit 2026: Smart Manufacturing and the Next Decade",
        activity_time="Tue 1 Dec 2026, 14:00–16:00 (Europe/London)",
        material_type="Event invitation",
        employee_name=f"Ann Lee {i}",
        employee_title="Senior Account Executive, Enterprise",
        phone="+44 20 7946 0958",
        email="ann.lee@example.com",
        share_url=f"https://share.example.com/s/AbCdEfGh{i:08d}",
        short_url=f"share.example.com/s/AbCdEfGh{i:08d}",
        headline="See the 2026 line-up first and meet the people building it.",
    )


def cjk(i: int) -> CardContent:
    return CardContent(
        activity_name="2026 新品发布会：智能制造与数字化转型峰会",
        activity_time="2026年12月1日 周二 14:00–16:00（北京时间）",
        material_type="活动邀请",
        employee_name=f"李雷{i}",
        employee_title="市场经理 · 华东区",
        phone="+86 138 0013 8000",
        email="li.lei@example.com",
        share_url=f"https://share.example.com/s/XyZ{i:08d}",
        short_url=f"share.example.com/s/XyZ{i:08d}",
        headline="与行业伙伴一起探索智能制造的下一步。",
    )


def render_timings(
    renderer: CardRenderer, make: Callable[[int], CardContent]
) -> tuple[list[float], list[float]]:
    """Fresh content every call, then one content over and over."""
    fresh = timings(lambda i: renderer.render(make(i)), UNCACHED_RUNS)
    same = make(-2)
    renderer.render(same)
    return fresh, timings(lambda _: renderer.render(same), CACHED_RUNS)


def main() -> None:
    started = time.perf_counter()
    t0 = time.perf_counter()
    renderer = CardRenderer(ROOT / "assets" / "fonts", cache_size=CACHED_RUNS + 1024)
    init_ms = (time.perf_counter() - t0) * 1000
    blank = Image.new("RGB", (WIDTH, HEIGHT), (241, 245, 249))
    card = renderer.draw(latin(-1))
    # Warm the allocator and caches first, so the earliest rows are not penalised.
    for i in range(30):
        renderer.render(cjk(-100 - i))
        encode_png(card)

    def qrcode_matrix(i: int) -> None:
        qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
        qr.add_data(latin(i).share_url)
        qr.make(fit=True)
        qr.get_matrix()

    def qrcode_factory(i: int) -> None:
        qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
        qr.add_data(f"https://share.example.com/s/QrCode{i:08d}")
        qr.make(fit=True)
        qr.make_image().save(io.BytesIO())

    rows: list[tuple[str, list[float]]] = [
        ("baseline: blank PNG (Pillow save)", timings(lambda _: encode_png(blank), BASELINE_RUNS)),
        ("baseline: qrcode make_image+save", timings(qrcode_factory, BASELINE_RUNS)),
        ("ref: card, Pillow RGB save", timings(lambda _: encode_png(card), BASELINE_RUNS)),
        ("stage: card, unfiltered encode", timings(lambda _: encode_png_unfiltered(card), 60)),
        ("ref: QR matrix, qrcode make(fit=True)", timings(qrcode_matrix, 60)),
        ("stage: QR matrix (qr_matrix)", timings(lambda i: qr_matrix(latin(i).share_url), 60)),
        ("stage: QR matrix + image", timings(lambda i: qr_image(latin(i).share_url, QR_BOX), 60)),
        ("stage: draw (Latin, incl. QR)", timings(lambda i: renderer.draw(latin(i)), 60)),
    ]
    for label, make in (("Latin", latin), ("CJK", cjk)):
        fresh, cached = render_timings(renderer, make)
        rows += [(f"{label} render, uncached", fresh), (f"{label} render, cached", cached)]

    base = statistics.median(rows[0][1])
    print(f"card {WIDTH}x{HEIGHT}, PNG compress_level {PNG_COMPRESS_LEVEL}, init {init_ms:.0f} ms")
    latin_png, cjk_png = renderer.render(latin(-3)), renderer.render(cjk(-3))
    print(
        f"PNG bytes: Latin {len(latin_png):,}, CJK {len(cjk_png):,}"
        f" (Pillow RGB save of the Latin card: {len(encode_png(card)):,})"
    )
    print(f"{'case':36} {'median ms':>10} {'p95 ms':>9} {'/ blank':>9}")
    for name, values in rows:
        ordered = sorted(values)
        median = statistics.median(ordered)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        print(f"{name:36} {median:10.3f} {p95:9.3f} {median / base:9.3f}")
    print(f"(total {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
