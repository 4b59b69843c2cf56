"""``python -m fpdm_video.app``: the web page for the signer transfer (see docs/app.md)."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Sequence

from fpdm_video.cli import run_guarded
from fpdm_video.errors import InputError


def main(argv: Sequence[str] | None = None) -> int:
    """0 stopped, 2 bad start-up settings (one ``error:`` line), 128 + N stopped by signal N."""

    def body() -> None:
        from fpdm_video.app.config import config_from_args
        from fpdm_video.app.server import serve

        config = config_from_args(argv)
        if importlib.util.find_spec("gradio") is None:
            raise InputError("the web app needs Gradio: pip install 'fpdm-video[app]' (or make install)")
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        serve(config)

    return run_guarded(body)


if __name__ == "__main__":
    sys.exit(main())
