"""Tributary's exceptions: one class per error category of the engine (the CLI's exit codes).

Every error the engine raises is a :class:`Error`; catch the category you can act on::

    try:
        ws.bars("NOPE")
    except tributary.NotFound as e:
        print(e)          # the same message `trib bars NOPE` prints
"""


class Error(Exception):
    """Base class of every error the engine raises."""

    category = "error"


class InvalidInput(Error, ValueError):
    """The caller's input is wrong (a bad symbol, date, range or option): fix it, do not retry."""

    category = "invalid_input"


class NotFound(Error, LookupError):
    """A named thing (symbol, model, feature set, workspace) does not exist."""

    category = "not_found"


class Conflict(Error):
    """Lost a race or a precondition changed: retry the whole operation."""

    category = "conflict"


class Transient(Error):
    """Transient (network, busy): the same call may succeed later."""

    category = "retryable"


class RateLimited(Transient):
    """A vendor asked us to slow down: retry after a longer wait."""

    category = "rate_limited"


class Permanent(Error):
    """Will fail the same way again (bad credentials, a symbol the vendor does not know)."""

    category = "permanent"


class DataLoss(Error):
    """Corrupt or truncated data (the message says how to rebuild from raw)."""

    category = "data_loss"


class Internal(Error):
    """A bug: an invariant did not hold. Please report it with the message."""

    category = "internal"


__all__ = ["Error", "InvalidInput", "NotFound", "Conflict", "Transient", "RateLimited", "Permanent", "DataLoss",
           "Internal"]
