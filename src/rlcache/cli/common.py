"""What every command shares: the one error handler, help settings, output folders."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from rlcache.errors import UserError

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"],
                                    "max_content_width": 100}
PROG = "rlcache"


def one_line(message: str) -> str:
    """Collapse a message onto one line."""
    return " ".join(str(message).split()) or "error"


def fail(message: str, code: int = 2, prog: str = PROG) -> NoReturn:
    """Print ``PROG: error: MESSAGE`` on stderr and exit with ``code``."""
    click.echo(f"{prog}: error: {one_line(message)}", err=True)
    sys.exit(code)


def run_command(command: click.Command, args: Sequence[str] | None = None,
                prog_name: str | None = None, **extra: Any) -> NoReturn:
    """Run a Click command; the one place that turns user errors into exit status 2."""
    prog = prog_name or PROG
    try:
        result = command.main(args=list(args) if args is not None else None,
                              prog_name=prog_name, standalone_mode=False, **extra)
    except UserError as exc:
        fail(str(exc), exc.exit_code, prog)
    except click.UsageError as exc:
        hint = f" (try '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        fail(exc.format_message() + hint, exc.exit_code, prog)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code, prog)
    except click.exceptions.Abort:
        fail("aborted", 1, prog)
    except KeyboardInterrupt:
        fail("interrupted", 130, prog)
    except BrokenPipeError:
        sys.exit(1)
    except MemoryError as exc:
        # Usually a size the user asked for (a huge trace, buffer or network): one line,
        # exit 1, since the machine, not the syntax, said no.
        fail(f"out of memory{': ' + str(exc) if str(exc) else ''}; reduce the sizes in the "
             f"config (env.requests, rl.buffer_size, rl.hidden_sizes)", 1, prog)
    except OSError as exc:
        # Not the user's doing (a full disk, a vanished mount): exit 1, but still one
        # line; the trainer has already logged which checkpoints are intact.
        fail(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}", 1, prog)
    sys.exit(result if isinstance(result, int) else 0)


class RlcacheGroup(click.Group):
    """A Click group whose ``main()`` reports errors through :func:`run_command`."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Console-script entry; ``standalone_mode=False`` keeps Click's plain behaviour."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        run_command(super(), args, prog_name, complete_var=complete_var, **extra)


def echo(message: str, quiet: bool = False) -> None:
    """Print to stdout unless quiet."""
    if not quiet:
        click.echo(message)
