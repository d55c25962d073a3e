"""Reading a posted form: whatever a client sends is a clear 400, never a 500."""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from bot.errors import InvalidInput
from bot.i18n import _
from bot.text import storable

# What aiohttp's form parsers raise on bodies they cannot read: undecodable text, a
# truncated multipart (ValueError, AssertionError), an unknown or non-text charset
# (LookupError), an unknown part Content-Transfer-Encoding (RuntimeError), a part with
# too many headers (BadHttpMessage, an HttpProcessingError).
UNREADABLE = (ValueError, LookupError, RuntimeError, AssertionError, HttpProcessingError)


Form = MultiDictProxy[str | bytes | bytearray | FileField]


async def read_form(request: web.Request) -> Form:
    """The posted fields; InvalidInput if the body cannot be read as a form, or holds text
    the database cannot store (a NUL character)."""
    try:
        form = await request.post()
    except UNREADABLE:
        raise InvalidInput(_("The form could not be read. Please fill it in again.")) from None
    texts = [*form.keys(), *(value for value in form.values() if isinstance(value, str))]
    if not all(map(storable, texts)):
        raise InvalidInput(_("The form holds characters we cannot store. Please type it again."))
    return form
