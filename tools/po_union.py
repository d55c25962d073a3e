"""Resolve a rebase conflict in a .po file by keeping both sides' entries:

python -m tools.po_union assets/locale/*/LC_MESSAGES/messages.po
python -m tools.i18n update
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CONFLICT = re.compile(r"^<<<<<<< [^\n]*\n(.*?)^=======\n(.*?)^>>>>>>> [^\n]*\n", re.S | re.M)


def union(text: str) -> str:
    def both(match: re.Match[str]) -> str:
        first, second = match.group(1), match.group(2)
        return first.rstrip("\n") + "\n\n" + second if first.strip() else second

    return CONFLICT.sub(both, text)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(union(path.read_text(encoding="utf-8")), encoding="utf-8")
