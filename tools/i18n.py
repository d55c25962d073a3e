"""Keep the message catalogues in step with the strings marked in the code.

    python -m tools.i18n update   # add newly marked strings to assets/locale/*/messages.po
    python -m tools.i18n check    # list zh strings still to translate (exit 1 if any)

The .po files are written sorted by msgid, without source locations and with fixed header
dates, so helpers adding strings at the same time touch different lines (few rebase conflicts).
"""

from __future__ import annotations

import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "assets" / "locale"
LOCALES = ("en", "zh")
KEYWORDS = {**DEFAULT_KEYWORDS, "translate": None}
FIXED_DATE = datetime(2026, 12, 4, tzinfo=UTC)  # header dates would otherwise churn every update
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w*\}")


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """Every marked string in bot/, handlers/ and the templates (babel.cfg)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    catalog = Catalog(project="ShareTrail", creation_date=FIXED_DATE)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale)
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def merged(template: Catalog, old: Catalog, locale: str) -> Catalog:
    """The template's messages with the translations `old` already has; obsolete ones dropped."""
    new = Catalog(
        locale=locale,
        project="ShareTrail",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        fuzzy=False,
    )
    for message in template:
        if not message.id:
            continue
        previous = old.get(message.id, context=message.context)
        plural = isinstance(message.id, (list, tuple))
        if previous is not None and previous.string and locale != "en":
            string = previous.string
        else:
            string = ("",) * new.num_plurals if plural else ""
        new[message.id] = Message(
            message.id,
            string,
            auto_comments=message.auto_comments,
            context=message.context,
        )
    return new


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(
        buffer,
        catalog,
        width=0,
        no_location=True,
        sort_output=True,
        ignore_obsolete=True,
        include_previous=False,
    )
    path.write_bytes(buffer.getvalue())


def problems(locale: str = "zh") -> list[str]:
    """Marked strings with no translation in `locale`, or whose placeholders differ."""
    template = extract()
    catalog = read(locale)
    found: list[str] = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        if entry is None or entry.fuzzy or not entry.string or not all(entry.string):
            found.append(f"untranslated: {ids[0]!r}")
            continue
        strings = entry.string if isinstance(entry.string, (list, tuple)) else (entry.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            have = set(PLACEHOLDER.findall(string))
            # Chinese has one plural form: it may drop %(num)d only if the singular has none.
            if not have <= wanted or not set(PLACEHOLDER.findall(ids[0])) <= have:
                found.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
    return found


def update() -> None:
    template = extract()
    for locale in LOCALES:
        write(merged(template, read(locale), locale), po_path(locale))
    missing = problems("zh")
    print(f"{len(template)} strings; {len(missing)} to translate in {po_path('zh')}")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
        return 0
    if command == "check":
        missing = problems("zh")
        for line in missing:
            print(line)
        return 1 if missing else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
