"""Slack's escaped text forms: <@U123|ann>, <#C123|general>, and plain ids."""

from __future__ import annotations

import re

from bot.errors import InvalidInput
from bot.i18n import N_, _

# Slack ids are upper-case letters and digits; the sandbox also uses "_" (U_ANN).
_USER = re.compile(r"^<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9_]{2,})$")
_ID = re.compile(r"[0-9]{1,9}")
_CHANNEL = re.compile(r"^<#([CGD][A-Z0-9_]+)(?:\|[^>]*)?>$|^([CGD][A-Z0-9_]{2,})$")


def parse_user(token: str) -> str | None:
    match = _USER.match(token)
    return (match.group(1) or match.group(2)) if match else None


def parse_channel(token: str) -> str | None:
    match = _CHANNEL.match(token)
    return (match.group(1) or match.group(2)) if match else None


def parse_users(tokens: list[str]) -> list[str]:
    users = []
    for index, token in enumerate(tokens):
        user = parse_user(token)
        if user is None:
            raise InvalidInput(not_a_mention(tokens[index:]))
        users.append(user)
    if not users:
        raise InvalidInput(_("Mention at least one person, like `@ann`."))
    return users


def not_a_mention(rest: list[str]) -> str:
    """Why a word is not a person, and the form that works. `@Sam Sales` typed out (not
    picked from Slack's list) arrives as plain text: Slack sends a picked mention as
    `<@U…>`, and a display name is neither unique nor stable, so it is not looked up."""
    typed = " ".join(rest)[:80].replace("`", "'")
    if typed.startswith("@"):
        return _(
            "`{typed}` reached me as text, not as a mention. Type `@`, then pick the person "
            "from Slack's list (it turns into a highlighted name), e.g. "
            "`/sharetrail sales add @Sam Sales`."
        ).format(typed=typed)
    return _(
        "`{typed}` is not a person. Mention people: type `@` and pick them from the list."
    ).format(typed=typed)


# What a number names, for "Give the activity number" / "`x` is not a lead number".
WHAT = {
    "activity": (
        N_("Give the activity number, e.g. `3`."),
        N_("`{token}` is not an activity number."),
    ),
    "lead": (N_("Give the lead number, e.g. `3`."), N_("`{token}` is not a lead number.")),
    "page": (N_("Give the page number, e.g. `3`."), N_("`{token}` is not a page number.")),
}


def parse_id(token: str | None, what: str = "activity") -> int:
    missing, wrong = WHAT.get(what, WHAT["activity"])
    if token is None:
        raise InvalidInput(_(missing))
    cleaned = token.lstrip("#")
    # ASCII digits, at most 9: "²".isdigit() is true but int() refuses it, and ids are
    # 32-bit integers on PostgreSQL.
    if not _ID.fullmatch(cleaned):
        raise InvalidInput(_(wrong).format(token=token))
    return int(cleaned)
