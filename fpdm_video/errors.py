"""Error types of fpdm-video.

Every error that a user can cause with bad input derives from :class:`InputError`. Entry points
(the CLIs) catch it, print its message on one line and exit with code 2. Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations


class FPDMVideoError(Exception):
    """Base class of all errors raised on purpose by this package."""


class InputError(FPDMVideoError, ValueError):
    """Bad input from the user: the message says what is wrong and what to do. CLI exit code 2."""


class VideoReadError(InputError):
    """A video file or frame folder cannot be read (missing, not a video, corrupt, empty, ...)."""


class VideoWriteError(InputError):
    """An output video cannot be written (unwritable folder, bad frames, ...)."""


class CorpusFormatError(InputError):
    """A PHOENIX corpus CSV is malformed (wrong header, missing field, ...)."""


class PoseError(InputError):
    """A pose file or a pose sequence is unusable (bad file, no person found, mismatched length)."""


class CheckpointError(InputError):
    """A checkpoint folder is missing, incomplete, or does not match its config."""


EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
