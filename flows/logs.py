"""The logging of the flows' command lines (``python -m flows.serve``, ``python -m flows.zombies``).

INFO for this project and Prefect, WARNING for the HTTP client underneath Prefect's: httpx logs
every request at INFO ("HTTP Request: POST .../get_scheduled_flow_runs 200"), which is one line per
poll of ``flows.serve``, every few seconds, for as long as it runs.
"""

from __future__ import annotations

import logging

QUIET = ("httpx", "httpcore")  # HTTP clients: a line per request at INFO, a line per connection step at DEBUG


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr at ``level``; the HTTP clients only from WARNING (failures still show)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
