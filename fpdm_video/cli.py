"""What every command line of the project shares: bad input is one line on stderr and exit code 2,
and an interruption (Ctrl-C, SIGTERM, SIGHUP) is one line and exit code 128 + the signal number.

SIGTERM is what ``kill``, systemd, Docker and Prefect workers send; SIGHUP comes when the terminal
goes away. Both are turned into the same exception as Ctrl-C (:class:`Interrupted`, a
``KeyboardInterrupt``), so every ``with`` block that writes a file removes its temporary file on
the way out. A second signal during that clean-up is not caught again: it ends the process at
once, and the next run into the same folder removes what was left (see ``fpdm_video.temp_names``).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator

from fpdm_video.errors import EXIT_BAD_INPUT, InputError

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGHUP raise :class:`Interrupted` (once; a second one acts as by default)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def handler(signum: int, frame) -> None:
        for s in HANDLED_SIGNALS:
            signal.signal(s, signal.SIG_DFL)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def exit_code_of(exc: KeyboardInterrupt) -> int:
    """128 + the signal number: 130 for Ctrl-C (SIGINT), 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + getattr(exc, "signum", signal.SIGINT)


def run_guarded(body: Callable[[], int | None], *, interrupted: str = "") -> int:
    """Run ``body`` and turn the project's input errors and interruptions into exit codes.

    :class:`InputError` -> ``error: <message>`` on stderr, exit code 2. Ctrl-C, SIGTERM or SIGHUP ->
    ``error: interrupted (SIGTERM)`` (plus ``interrupted``, a hint of what to do, if given), exit
    code 128 + the signal number. Anything else is a bug and keeps its traceback.
    """
    try:
        with signals_as_interrupts():
            return body() or 0
    except InputError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        name = signal.Signals(getattr(exc, "signum", signal.SIGINT)).name
        print(f"error: interrupted ({name})" + (f"; {interrupted}" if interrupted else ""), file=sys.stderr)
        return exit_code_of(exc)


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())
