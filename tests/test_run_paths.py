"""The one place that checks every path of a run: aliasing in all its forms, unwritable places, stale temporaries."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fpdm_video.errors import InputError
from fpdm_video.run_paths import check_run_paths
from fpdm_video.temp_names import MARKER, final_path, is_project_temp, parse_temp_name, pid_alive, remove_stale, temp_name

from factories_paths import ALIASES, alias, dead_pid, stale_file, stale_folder, stale_name, tree_state


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "in").mkdir()
    video = tmp_path / "in" / "video.mp4"
    video.write_bytes(b"the input video")
    frames = tmp_path / "in" / "frames"
    frames.mkdir()
    (frames / "images0001.png").write_bytes(b"a frame")
    return {"video": video, "frames": frames}


@pytest.mark.parametrize("kind", ALIASES)
def test_an_output_that_is_an_input_is_refused(files, tmp_path, kind):
    out = alias(kind, files["video"], tmp_path)
    before = tree_state(tmp_path)
    with pytest.raises(InputError, match=r"^-o .* is the input INPUT .* itself; writing it would destroy the input"):
        check_run_paths({"INPUT": files["video"]}, {"-o": out})
    assert tree_state(tmp_path) == before


@pytest.mark.parametrize("kind", ALIASES)
def test_two_outputs_that_are_one_file_are_refused(files, tmp_path, kind):
    first = tmp_path / "out.mp4"
    first.write_bytes(b"an earlier output")  # a hard link needs an existing file
    second = alias(kind, first, tmp_path)
    with pytest.raises(InputError, match="name the same file"):
        check_run_paths({}, {"-o": first, "--comparison": second})


def test_outputs_inside_input_folders_and_folders_holding_inputs(files, tmp_path):
    with pytest.raises(InputError, match="lies inside the input folder INPUT"):
        check_run_paths({"INPUT": files["frames"]}, {"-o": files["frames"] / "out.mp4"})
    with pytest.raises(InputError, match="lies inside the input folder dataset"):
        check_run_paths({"dataset": tmp_path / "in"}, {"output": tmp_path / "in" / "aug"}, folders={"output"})
    with pytest.raises(InputError, match="contains the input dataset"):
        check_run_paths({"dataset": files["frames"]}, {"output": tmp_path / "in"}, folders={"output"})
    with pytest.raises(InputError, match="is the input dataset .* itself"):
        check_run_paths({"dataset": files["frames"]}, {"output": files["frames"]}, folders={"output"})
    # a file output beside an input file is fine, and so is a folder output beside the inputs
    paths = check_run_paths({"INPUT": files["video"]}, {"-o": tmp_path / "in" / "out.mp4", "out": tmp_path / "o"}, folders={"out"})
    assert paths.outputs["-o"] == (tmp_path / "in" / "out.mp4").resolve()


def test_folders_files_and_places_that_cannot_be_written(files, tmp_path):
    with pytest.raises(InputError, match="is a folder; give a file name"):
        check_run_paths({}, {"-o": files["frames"]})
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_run_paths({}, {"--plots": files["video"]}, folders={"--plots"})
    with pytest.raises(InputError, match=r"video.mp4 is a file, not a folder"):
        check_run_paths({}, {"--json": files["video"] / "sub" / "r.json"})
    for place in ("/proc/x.pose", "/sys/r.json"):
        with pytest.raises(InputError, match="is not writable"):
            check_run_paths({}, {"-o": place})
    assert not (tmp_path / "new").exists()
    check_run_paths({}, {"-o": tmp_path / "new" / "deeper" / "out.mp4"})  # a folder still to be made is fine
    assert not (tmp_path / "new").exists()  # ... and checking it makes nothing


def test_stale_temporaries_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    gone = dead_pid()
    stale_file_dir = stale_file(tmp_path, "out.mp4", gone)  # what a killed writer of out.mp4 leaves
    live_file_dir = stale_file(tmp_path, "out.mp4", os.getpid(), b"being written")
    stale_dir = stale_folder(tmp_path, "clip", gone)
    unmarked = tmp_path / stale_name("other", gone)  # the pattern but not the marker: not ours
    unmarked.mkdir()
    named_file = tmp_path / stale_name("clip.mp4", gone, suffix=".mp4")  # a plain file with the pattern: never ours
    named_file.write_bytes(b"a user's video")
    user_file = tmp_path / ".notes.123.txt"
    user_file.write_text("mine")
    check_run_paths({}, {"-o": tmp_path / "out.mp4"})
    assert not stale_file_dir.exists() and not stale_dir.exists()
    assert live_file_dir.is_dir() and unmarked.is_dir() and user_file.exists()
    assert named_file.read_bytes() == b"a user's video"


def test_a_copied_temporary_folder_is_not_ours(tmp_path):
    # the marker names the inode of the folder it was written into: a copy (a backup, cp -r) is left alone
    (tmp_path / "a").mkdir()
    original = stale_file(tmp_path / "a", "out.mp4", dead_pid())
    copy = tmp_path / original.name
    shutil.copytree(original, copy)
    assert is_project_temp(original) is not None and is_project_temp(copy) is None
    assert remove_stale(tmp_path) == [] and copy.is_dir()
    assert remove_stale(tmp_path / "a") == [original]


@pytest.mark.parametrize("marker", ["1\n", "fpdm-video temporary folder, pid 1, inode 1\n", None])
def test_a_marker_that_is_not_this_folders_own_is_not_ours(tmp_path, marker):
    folder = tmp_path / stale_name("clip", dead_pid())
    folder.mkdir()
    if marker is None:  # a named pipe where the marker should be: not read (it would block), not ours
        os.mkfifo(folder / MARKER)
    else:
        (folder / MARKER).write_text(marker)
    assert remove_stale(tmp_path) == [] and folder.is_dir()


def test_an_input_of_the_run_is_never_removed(tmp_path):
    # a frame folder that is a leftover of a dead writer, given as the run's input, and one that holds an input
    frames = stale_folder(tmp_path, "clip", dead_pid())
    (frames / "images0001.png").write_bytes(b"a frame")
    holder = stale_folder(tmp_path, "other", dead_pid())
    (holder / "signer.png").write_bytes(b"a photo")
    check_run_paths({"INPUT": frames, "--signer": holder / "signer.png"}, {"-o": tmp_path / "out.mp4"})
    assert (frames / "images0001.png").read_bytes() == b"a frame" and (holder / "signer.png").read_bytes() == b"a photo"
    assert sorted(remove_stale(tmp_path)) == sorted([frames, holder])  # without those inputs, they are leftovers


def test_a_folder_moved_aside_by_a_dead_writer_goes_back(tmp_path):
    gone = dead_pid()
    moved = stale_folder(tmp_path, "clip", gone, "old")
    (moved / "images0001.png").write_bytes(b"the only copy")
    assert remove_stale(tmp_path) == [moved]
    assert (tmp_path / "clip" / "images0001.png").read_bytes() == b"the only copy"
    assert sorted(p.name for p in (tmp_path / "clip").iterdir()) == ["images0001.png"]


def test_temp_names_carry_the_pid():
    name = temp_name("out.mp4", suffix=".mp4")
    parsed = parse_temp_name(name)
    assert parsed is not None and parsed.target == "out.mp4" and parsed.pid == os.getpid() and parsed.kind == "tmp"
    assert name.endswith(".tmp.mp4")
    assert final_path(Path("/x") / temp_name("out.mp4") / "out.mp4") == Path("/x/out.mp4") and final_path("/x/out.mp4") == Path("/x/out.mp4")
    assert parse_temp_name("out.mp4") is None and parse_temp_name(".out.mp4.abc.tmp.mp4") is None
    assert pid_alive(os.getpid()) and not pid_alive(dead_pid())
