"""When a flow task is retried: after a failure that may pass (a network share hiccups), never after bad input.

An :class:`~fpdm_video.errors.InputError` (a missing file, a video that is not one, settings out of
range) fails the same way every time, so retrying it only delays the message.
"""

from __future__ import annotations

from fpdm_video.errors import InputError


def retry_unless_input_error(task, task_run, state) -> bool:
    """Prefect ``retry_condition_fn``: False when the failed state holds an InputError, else True."""
    try:
        state.result()
    except InputError:
        return False
    except Exception:  # any other failure may pass on a second try
        return True
    return True


def retries(count: int) -> dict:
    """Task options: ``count`` retries two seconds apart, none after bad input."""
    return dict(retries=count, retry_delay_seconds=2, retry_condition_fn=retry_unless_input_error)
