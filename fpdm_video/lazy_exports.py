"""A package's names imported from their modules on first use (PEP 562), so that importing a light part of the package
(the settings, a command line's parser) does not import torch through the package's ``__init__``.

    __getattr__, __all__ = lazy_exports(__name__, {"load_model": "fpdm_video.models.checkpoint", ...})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, owners: Mapping[str, str]) -> tuple[Callable[[str], Any], list[str]]:
    """The module-level ``__getattr__`` and ``__all__`` of ``package``, whose name N is ``owners[N]``'s attribute N."""
    owners = dict(owners)

    def __getattr__(name: str) -> Any:
        if name not in owners:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(owners[name]), name)

    return __getattr__, sorted(owners)
