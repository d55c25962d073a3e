"""Domain errors, mapped once: to pages by the web middleware, to ephemerals by the bolt handler."""


class DomainError(Exception):
    """Base class: the message is safe to show to the user."""


class NotFound(DomainError):
    """The thing asked for does not exist (or must look as if it does not)."""


class Forbidden(DomainError):
    """The user may not do this."""


class InvalidInput(DomainError):
    """Bad input; `fields` maps a field name to its message when the form has several."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class Gone(DomainError):
    """The link was valid once but has expired or been used."""


class Closed(DomainError):
    """The thing still exists but takes nothing more (a closed activity's sign-ups)."""
