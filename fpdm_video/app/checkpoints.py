"""The checkpoint folders a visitor may pick from: named at start-up, never typed into the page.

A visitor picks a label; the page sends it back and Gradio checks it is one of the choices, so no
visitor can make the server read a folder the operator did not name.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fpdm_video.errors import CheckpointError
from fpdm_video.models.checkpoint import CONFIG_NAME, WEIGHTS_NAME, weights_file

DEMO_LABEL = "demo (embedded)"
DEMO_STUDENT_LABEL = "demo-turbo (embedded few-step student: --speed turbo)"


def embedded_demo() -> Path:
    """The embedded demo model's folder (what ``SignerTransfer.from_pretrained()`` loads)."""
    return Path(__file__).resolve().parents[1] / "weights" / "demo"


def embedded_demo_student() -> Path:
    """The embedded demo model's few-step student (what ``--speed turbo`` loads by default)."""
    return embedded_demo().with_name("demo-turbo")


def is_checkpoint(folder: Path) -> bool:
    return (folder / CONFIG_NAME).is_file() and weights_file(folder).is_file()


def found_in(parent: Path) -> list[Path]:
    """The sub-folders of ``parent`` that hold a checkpoint, sorted by name."""
    if not parent.is_dir():
        raise CheckpointError(f"--checkpoints-dir {parent} is not a folder")
    return sorted(p for p in parent.iterdir() if p.is_dir() and is_checkpoint(p))


def _label(path: Path, taken: set[str]) -> str:
    label, parent = path.name, path.parent
    while label in taken and parent != parent.parent:  # two folders of one name: add their parents until the labels differ
        label, parent = f"{parent.name}/{label}", parent.parent
    return label


def checkpoint_choices(named: Iterable[Path], dirs: Iterable[Path], *, include_demo: bool = True) -> dict[str, Path]:
    """Label -> folder, in the order offered (the first is the default).

    The folders named with ``--checkpoint`` come first, then those found in ``--checkpoints-dir``,
    then the embedded demo model (the default when nothing else is named) and its few-step student.
    """
    folders: list[Path] = []
    for path in named:
        path = Path(path).expanduser().resolve()
        if not is_checkpoint(path):
            raise CheckpointError(f"--checkpoint {path} is not a checkpoint folder (it needs {CONFIG_NAME} and {WEIGHTS_NAME})")
        folders.append(path)
    for parent in dirs:
        folders += [p.resolve() for p in found_in(Path(parent).expanduser())]
    choices: dict[str, Path] = {}
    for path in dict.fromkeys(folders):
        choices[_label(path, set(choices))] = path
    demo = embedded_demo()
    if include_demo and demo not in choices.values() and is_checkpoint(demo):
        choices[DEMO_LABEL] = demo
    student = embedded_demo_student()
    if include_demo and student not in choices.values() and is_checkpoint(student):
        choices[DEMO_STUDENT_LABEL] = student
    if not choices:
        raise CheckpointError("no checkpoint to offer: name one with --checkpoint or --checkpoints-dir (or leave out --no-demo)")
    return choices
