"""What every command shares: the one error handler, help settings, output folders."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
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


class Interrupted(BaseException):
    """SIGINT or SIGTERM outside training (which handles its own): exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """While a command runs, SIGINT and SIGTERM end it with 130 / 143 and one line.

    Raised as :class:`Interrupted` (not KeyboardInterrupt, which Click turns into an
    "aborted" exit 1); the trainer installs its own handlers for the training loop.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {}
    for signum, default in ((signal.SIGINT, signal.default_int_handler),
                            (signal.SIGTERM, signal.SIG_DFL)):
        if signal.getsignal(signum) is default:
            old[signum] = signal.signal(signum, _raise_interrupted)
    try:
        yield
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_command(command: click.Command, args: Sequence[str] | None = None,
                prog_name: str | None = None, **extra: Any) -> NoReturn:
    """Run a Click command: the one place that turns every error into one line.

    User errors exit 2; interrupts 130 (SIGINT) or 143 (SIGTERM); what the machine
    refused (memory, disk) and anything unexpected exit 1, still as one line
    (``RLCACHE_TRACEBACK=1`` re-raises the unexpected ones with their traceback).
    """
    prog = prog_name or PROG
    try:
        with _signals_interrupt():
            result = command.main(args=list(args) if args is not None else None,
                                  prog_name=prog_name, standalone_mode=False, **extra)
    except UserError as exc:
        fail(str(exc), exc.exit_code, prog)
    except click.UsageError as exc:
        hint = f" (try '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        fail(exc.format_message() + hint, exc.exit_code, prog)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code, prog)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            fail("interrupted", 130, prog)
        fail("aborted", 1, prog)
    except KeyboardInterrupt:
        fail("interrupted", 130, prog)
    except Interrupted as exc:
        fail("interrupted" if exc.signum == signal.SIGINT else "terminated",
             128 + exc.signum, prog)
    except BrokenPipeError:
        sys.exit(1)
    except MemoryError as exc:
        _out_of_memory(str(exc), prog)
    except RecursionError:
        fail("the input is nested too deeply to read (a YAML or JSON file?)", 2, prog)
    except OSError as exc:
        # Not the user's doing (a full disk, a vanished mount): exit 1, but still one
        # line; the trainer has already logged which checkpoints are intact.
        fail(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}", 1, prog)
    except Exception as exc:
        if "allocate" in str(exc) and "memory" in str(exc):  # torch's allocator
            _out_of_memory(_first_line(exc), prog)
        if os.environ.get("RLCACHE_TRACEBACK"):
            raise
        fail(f"internal error: {type(exc).__name__}: {_first_line(exc)} (please report it; "
             f"RLCACHE_TRACEBACK=1 shows the traceback)", 1, prog)
    sys.exit(result if isinstance(result, int) else 0)


def _out_of_memory(detail: str, prog: str) -> NoReturn:
    # Usually a size the user asked for (a huge trace, buffer or network): one line,
    # exit 1, since the machine, not the syntax, said no.
    fail(f"out of memory{': ' + detail if detail else ''}; reduce the sizes in the "
         f"config (env.requests, rl.buffer_size, rl.hidden_sizes)", 1, prog)


class RlcacheGroup(click.Group):
    """A Click group whose ``main()`` reports errors through :func:`run_command`."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Console-script entry; ``standalone_mode=False`` keeps Click's plain behaviour."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        run_command(super(), args, prog_name, complete_var=complete_var, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a KeyboardInterrupt leaves as :class:`Interrupted`, which Click
        does not turn into "Aborted!" after a blank line."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted(signal.SIGINT) from None


def echo(message: str, quiet: bool = False) -> None:
    """Print to stdout unless quiet."""
    if not quiet:
        click.echo(message)
