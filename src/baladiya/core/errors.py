"""Domain errors: raised by services, shown to the user as a clear message, never a 500."""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """A rule of the domain refused the operation. Nothing was written.

    `message` is a (lazily) translated sentence for the user; `code` a stable machine name.
    """

    status = 400
    code = "invalid"

    def __init__(self, message: str | Promise, *, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code


class NotAllowed(DomainError):
    """The acting user's role or center does not permit this."""

    status = 403
    code = "forbidden"


class IllegalTransition(DomainError):
    status = 409
    code = "illegal_transition"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
