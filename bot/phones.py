"""Phone numbers shown one way everywhere (console, landing and sign-up pages): grouped as
people read them where the plan is known (China, North America), digits otherwise, and
a `tel:` target of the bare digits. Masked numbers (`+86*****78`) are shown as they are."""

from __future__ import annotations

import re

_JUNK = re.compile(r"[\s().\-]")


def bare(phone: str) -> str:
    """Digits with an optional leading + (as bot/leads.py stores a lead's phone)."""
    return _JUNK.sub("", phone.strip())


def dialable(phone: str) -> bool:
    digits = bare(phone)
    return bool(re.fullmatch(r"\+?\d{3,20}", digits))


def display(phone: str) -> str:
    """'+86 138 1234 5678', '138 1234 5678', '+1 415 555 0110'; other numbers as digits."""
    if not dialable(phone):
        return phone.strip()
    digits = bare(phone)
    if re.fullmatch(r"\+861\d{10}", digits):
        return f"+86 {digits[3:6]} {digits[6:10]} {digits[10:]}"
    if re.fullmatch(r"1[3-9]\d{9}", digits):  # a Chinese mobile typed without +86
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if re.fullmatch(r"\+1\d{10}", digits):
        return f"+1 {digits[2:5]} {digits[5:8]} {digits[8:]}"
    return digits
