"""Every path a command reads and writes, resolved and checked before any work: the one place that
keeps a command from destroying its own inputs.

Each command line and each flow names its inputs and its outputs (by the option that gave them,
for the messages) and calls :func:`check_run_paths` first. It refuses, with an :class:`InputError`
and before anything is read or written:

- an input, or an existing output, that is neither a regular file nor a folder (after symbolic
  links): a named pipe would block the run forever, a device or a socket is no file to read or to
  replace;
- an output that is one of the inputs, by path (after ``..`` and symbolic links are resolved) or
  as a hard link (same device and inode);
- an output inside an input folder (a frame folder, a dataset root, a run folder): writing there
  would change that input;
- a folder output that is, contains or lies inside an input;
- two outputs that are the same file;
- a file output whose name is an existing folder, or a folder output that is an existing file;
- an output whose folder cannot be written: the nearest existing folder above it gets a probe file
  created and removed, so a read-only mount, ``/proc`` or a file standing where a folder should be
  are found now, not after minutes of work.

When all is well, the temporary folders that dead processes left in the output folders are removed
(:func:`fpdm_video.temp_names.remove_stale`: only folders this project made, and never an input of
the run), and the resolved paths are returned.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from fpdm_video.atomic import is_no_room, no_room_error
from fpdm_video.errors import InputError
from fpdm_video.temp_names import remove_stale, temp_name

PathArg = str | os.PathLike | None


@dataclass(frozen=True)
class RunPaths:
    """The resolved paths of one run, by the name the user gave them with (e.g. ``-o``, ``--signer``)."""

    inputs: dict[str, Path]
    outputs: dict[str, Path]


def _resolve(label: str, path: str | os.PathLike) -> Path:
    try:
        return Path(os.path.expanduser(os.fspath(path))).resolve()
    except (RuntimeError, OSError) as exc:  # a loop of symbolic links
        raise InputError(f"{label} {path} cannot be resolved ({exc}); give a path without a loop of symbolic links") from None


SPECIAL_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                 (stat.S_ISBLK, "a block device"))  # fmt: skip


def special_kind(path: str | os.PathLike) -> str | None:
    """What ``path`` is (after symbolic links) when it exists and is neither a regular file nor a folder, else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # missing, or not reachable: the readers say so in their own words
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return next((name for test, name in SPECIAL_KINDS if test(mode)), "not a regular file")


def check_regular(label: str, given: PathArg, path: str | os.PathLike) -> None:
    """Refuse ``path`` when it exists but is neither a regular file nor a folder (see the module docstring)."""
    kind = special_kind(path)
    if kind is not None:
        raise InputError(f"{label} {given} is {kind}, not a regular file or a folder; give the path of a file or a folder")


def _inside(path: Path, folder: Path) -> bool:
    return path != folder and folder in path.parents


def _same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _nearest_existing(path: Path) -> Path:
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def probe_writable(folder: Path, what: str) -> None:
    """Create and remove a probe file in ``folder`` (the nearest existing folder above an output)."""
    if not folder.is_dir():
        raise InputError(f"cannot write {what}: {folder} is a file, not a folder")
    probe = folder / temp_name("fpdm-probe")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        if is_no_room(exc) and exc.errno != errno.EROFS:
            raise no_room_error(exc, [folder]) from None
        raise InputError(f"cannot write {what}: {folder} is not writable ({exc.strerror or exc}); choose another output folder") from None
    os.unlink(probe)


def _check_output(label: str, given: PathArg, path: Path, folder: bool) -> None:
    what = f"{label} {given}"
    if folder:
        if path.exists() and not path.is_dir():
            raise InputError(f"{what} is a file, not a folder; give a folder")
    elif path.is_dir():
        raise InputError(f"{what} is a folder; give a file name")
    probe_writable(_nearest_existing(path if folder else path.parent), what)


def _check_against_input(out_label: str, out_given: PathArg, out: Path, folder: bool, in_label: str, in_given: PathArg, inp: Path) -> None:
    what = f"{out_label} {out_given}"
    if out == inp or _same_file(out, inp):
        raise InputError(f"{what} is the input {in_label} {in_given} itself; writing it would destroy the input: "
                         "choose another output path")  # fmt: skip
    if inp.is_dir() and _inside(out, inp):
        raise InputError(f"{what} lies inside the input folder {in_label} {in_given}, which writing it would change; "
                         "choose an output outside it")  # fmt: skip
    if folder and _inside(inp, out):
        raise InputError(f"{what} contains the input {in_label} {in_given}; choose an output folder that does not hold "
                         "the inputs")  # fmt: skip


def check_run_paths(inputs: Mapping[str, PathArg], outputs: Mapping[str, PathArg], *, folders: Collection[str] = ()) -> RunPaths:
    """Resolve and check the paths of one run (None values are skipped); see the module docstring.

    ``inputs`` and ``outputs`` map the option a path came from (``"-o"``, ``"--signer"``) to the
    path; ``folders`` names the outputs that are folders the command writes into.
    """
    given_in = {k: v for k, v in inputs.items() if v is not None and str(v) != ""}
    given_out = {k: v for k, v in outputs.items() if v is not None and str(v) != ""}
    ins = {k: _resolve(k, v) for k, v in given_in.items()}
    outs = {k: _resolve(k, v) for k, v in given_out.items()}
    for label, path in ins.items():
        check_regular(label, given_in[label], path)
    for label, path in outs.items():
        check_regular(label, given_out[label], path)
    for label, out in outs.items():
        folder = label in folders
        for in_label, inp in ins.items():
            _check_against_input(label, given_out[label], out, folder, in_label, given_in[in_label], inp)
    labels = list(outs)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if outs[a] == outs[b] or _same_file(outs[a], outs[b]):
                raise InputError(f"{a} {given_out[a]} and {b} {given_out[b]} name the same file; give them different names")
    for label, out in outs.items():
        _check_output(label, given_out[label], out, label in folders)
    for folder in dict.fromkeys(out if label in folders else out.parent for label, out in outs.items()):
        remove_stale(folder, keep=ins.values())  # once per folder, in order; never an input
    return RunPaths(inputs=ins, outputs=outs)
