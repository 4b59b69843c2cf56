"""Read the official FPDM's PyTorch Lightning checkpoints without running any of their code.

A Lightning ``.ckpt`` is a pickle. Unpickling an untrusted pickle can run any code, so it is read
with ``torch.load(weights_only=True)``: tensors and plain containers only, and every other global
the pickle names is refused by name. The official checkpoints also pickle their hyper-parameters as
omegaconf objects (``save_hyperparameters`` of an omegaconf config): exactly the classes listed in
:data:`INERT_GLOBALS` are accepted, each replaced by an inert stand-in that only keeps its pickled
state, so omegaconf is neither needed nor imported, and no method of it runs. :func:`to_plain`
turns those stand-ins into dicts, lists and values.
"""

from __future__ import annotations

import collections
import os
import pickle
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from fpdm_video.errors import CheckpointError

# what the official hyper_parameters pickle names, besides tensors and plain containers
INERT_GLOBALS = (
    "omegaconf.dictconfig.DictConfig",
    "omegaconf.listconfig.ListConfig",
    "omegaconf.nodes.AnyNode",
    "omegaconf.base.Metadata",
    "omegaconf.base.ContainerMetadata",
    "typing.Any",
)  # and, as type references, the builtin types and collections.defaultdict (PLAIN_TYPES)


class Inert:
    """Stand-in for one pickled object of an allowed class: its state, kept as data, and nothing else."""

    qualname = ""

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<inert {self.qualname}>"


def _stand_in(qualname: str) -> type:
    return type(qualname.rsplit(".", 1)[1], (Inert,), {"qualname": qualname, "__module__": __name__})


STAND_INS = {name: _stand_in(name) for name in INERT_GLOBALS}
# the type references omegaconf's metadata holds (object_type, and the resolver cache's defaultdict(dict))
PLAIN_TYPES = (dict, list, tuple, int, float, str, bool, collections.defaultdict, collections.OrderedDict)
ALLOWED = [(cls, name) for name, cls in STAND_INS.items()] + list(PLAIN_TYPES)


@dataclass
class OfficialCheckpoint:
    """What an official checkpoint holds, as data."""

    path: Path
    state_dict: dict[str, torch.Tensor]  # the model's tensors, by their official names
    hyper_parameters: dict[str, Any]  # the saved hyper-parameters, as plain data
    lightning_version: str | None


def to_plain(value: Any) -> Any:
    """Stand-ins of omegaconf containers and nodes as plain dicts, lists and values."""
    if isinstance(value, Inert):
        state = getattr(value, "state", None) or {}
        name = value.qualname.rsplit(".", 1)[1]
        if name == "DictConfig":
            return {k: to_plain(v) for k, v in (state.get("_content") or {}).items()}
        if name == "ListConfig":
            return [to_plain(v) for v in (state.get("_content") or [])]
        if name == "AnyNode":
            return to_plain(state.get("_val"))
        return None  # metadata and typing markers carry nothing a conversion needs
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def read_checkpoint(path: str | os.PathLike) -> OfficialCheckpoint:
    """Load an official ``.ckpt`` safely (see the module docstring); raises :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"official checkpoint {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a PyTorch checkpoint (a zip archive written by torch.save)")
    try:
        with torch.serialization.safe_globals(ALLOWED):
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f"it names {found.group(1)}, which is neither a tensor nor the official hyper-parameters" if found else str(exc)[:200]
        raise CheckpointError(f"{path} is refused and nothing in it was run: {what}") from None
    except (RuntimeError, OSError, EOFError) as exc:
        raise CheckpointError(f"cannot read {path}: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("state_dict"), dict):
        raise CheckpointError(f"{path} is not a Lightning checkpoint (no state_dict)")
    state = {k: v for k, v in raw["state_dict"].items() if isinstance(v, torch.Tensor)}
    return OfficialCheckpoint(path=path, state_dict=state, hyper_parameters=to_plain(raw.get("hyper_parameters") or {}),
                              lightning_version=raw.get("pytorch-lightning_version"))  # fmt: skip
