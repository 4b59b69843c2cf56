"""A transfer's paths, checked before any work and without torch (the CLI refuses a missing input at once)."""

from __future__ import annotations

from pathlib import Path

from fpdm_video.errors import InputError
from fpdm_video.images import image_path_problem
from fpdm_video.models.checkpoint_files import checkpoint_files
from fpdm_video.run_paths import RunPaths, check_run_paths
from pipelines.transfer.record import sidecar_path

OUTPUT_SUFFIXES = (".mp4", ".mov", ".mkv")


def input_path_problem(path) -> str | None:
    """Why the driving input ``path`` cannot be read, when nothing is there; None when something is."""
    return None if Path(path).exists() else f"input {path} does not exist; give a video file, a folder of frames or a .pose file"


def check_paths(video, signer_image, output, *, checkpoint=None, poses=None, save_poses=None, comparison=None) -> RunPaths:
    """The paths of one transfer, checked before any work (see :mod:`fpdm_video.run_paths`)."""
    output = Path(output)
    if Path(signer_image).is_dir():
        raise InputError(f"--signer {signer_image} is a folder; give the path of a PNG or JPEG photo")
    for label, path, suffixes in (("-o", output, OUTPUT_SUFFIXES), ("--comparison", comparison, OUTPUT_SUFFIXES),
                                  ("--save-poses", save_poses, (".pose",))):  # fmt: skip
        if path is not None and Path(path).suffix.lower() not in suffixes:
            raise InputError(f"{label} {path} must end in {' or '.join(suffixes)}")
    paths = check_run_paths(
        {"INPUT": video, "--signer": signer_image, "--poses": poses, **checkpoint_files(checkpoint)},
        {"-o": output, "record": sidecar_path(output), "--comparison": comparison, "--save-poses": save_poses},
    )  # refuses pipes and devices by their option's name; a path with nothing there is for the two checks below
    for problem in (input_path_problem(video), image_path_problem(signer_image)):
        if problem is not None:
            raise InputError(problem)
    return paths
