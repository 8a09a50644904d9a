"""Options shared by every command that reads a trace, defined once.

``@trace_options`` adds ``--trace --format --id-col --size-col --split`` with the same
names, types and checks to ``rlcache train``, ``rlcache evaluate`` and ``rlcache
baselines``; :data:`SEED` is the one seed type (what NumPy and torch accept).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("csv", "txt", "oracleGeneral")
SPLITS = ("train", "test")
SEED = click.IntRange(0, 2**32 - 1)
"""A seed: an integer in [0, 2**32)."""


class Column(click.ParamType):
    """A CSV column: a 0-based index (an int) or a header name (a str)."""

    name = "column"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int | str:
        """An int for digits, else the header name; a negative index is refused."""
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        else:
            text = str(value).strip()
        if re.fullmatch(r"[+-]?[0-9]+", text):  # ASCII digits only, as the reader
            index = int(text)
            if index < 0:
                self.fail(f"expected a 0-based column index or a header name, got {value!r}",
                          param, ctx)
            return index
        if not text:
            self.fail("expected a 0-based column index or a header name, got ''", param, ctx)
        return text


COLUMN = Column()


def trace_options(command: F) -> F:
    """Add ``--trace --format --id-col --size-col --split`` (the trace a command reads)."""
    options = [
        click.option("--trace", metavar="PATH", help="Trace file (csv, txt or oracleGeneral; "
                     ".zst compressed too)."),
        click.option("--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False),
                     help="Format of --trace (default: from the extension)."),
        click.option("--id-col", "id_col", type=COLUMN, metavar="COL",
                     help="CSV id column: 0-based index or header name (default: a header "
                          "column named id, obj_id or key, else 0)."),
        click.option("--size-col", "size_col", type=COLUMN, metavar="COL",
                     help="CSV size column: index or header name. Sizes are read and checked, "
                          "but caches count objects: every object counts as one."),
        click.option("--split", type=click.Choice(SPLITS),
                     help="First (train) or second (test) half of the trace; a fractional "
                          "--cache-size refers to the distinct objects of that half."),
    ]
    for option in reversed(options):
        command = option(command)
    return command
