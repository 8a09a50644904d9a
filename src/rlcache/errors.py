"""Errors that are the user's doing: the CLI reports them as one line and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """A user's mistake (bad flag, config key, file, trace line or checkpoint).

    The message is one line naming the thing, where it is and what was expected.
    """

    exit_code = 2


def checkpoint_not_found(path: object, flag: str | None = None) -> UserError:
    """The one "checkpoint not found" error (``flag``: the option that named ``path``)."""
    return UserError(f"{flag + ' ' if flag else ''}{path}: checkpoint not found")
