"""What every command line of the project shares: bad input is one line on stderr and exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable

from fpdm_video.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, InputError


def run_guarded(body: Callable[[], int | None], *, interrupted: str = "interrupted") -> int:
    """Run ``body`` and turn the project's input errors and Ctrl-C into exit codes.

    :class:`InputError` -> ``error: <message>`` on stderr, exit code 2; ``KeyboardInterrupt`` ->
    ``interrupted`` on stderr, exit code 130. Anything else is a bug and keeps its traceback.
    """
    try:
        return body() or 0
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return EXIT_INTERRUPTED
