"""The flows' logic without a server: output-root confinement and the resumable steps."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flows import steps
from flows.paths import confined
from fpdm_video.errors import InputError
from pipelines.settings import SamplingSettings
from pipelines.transfer import TransferSettings

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/../../x.mp4", "/etc/x.mp4", ""])
def test_outputs_stay_under_the_root(tmp_path, monkeypatch, bad):
    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(tmp_path / "root"))
    with pytest.raises(InputError):
        confined(bad)


def test_confined_path_and_symlink_escape(tmp_path, monkeypatch):
    root = tmp_path / "root"
    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(root))
    assert confined("clips/a.mp4") == (root / "clips" / "a.mp4").resolve()
    (root / "link").symlink_to(tmp_path)  # a link out of the root
    with pytest.raises(InputError, match="leaves the output root"):
        confined("link/x.mp4")


def test_steps_reuse_finished_work_and_redo_a_lost_chunk(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    settings = TransferSettings(SamplingSettings(steps=1, batch_size=3), chunk_frames=3)
    video, signer = str(example_inputs.video), str(example_inputs.signer_image)
    sha = steps.model_sha(tiny_checkpoint)

    def run() -> list:
        facts = steps.input_facts(video, settings)
        driving = steps.poses_step(tmp_path, video, settings, str(example_inputs.poses))
        image, ref_pose, _ = steps.reference_step(tmp_path, signer, facts["width"], facts["height"])
        target, _ = steps.target_step(tmp_path, driving, ref_pose, True)
        return [steps.chunk_step(tmp_path, target, image, str(tiny_checkpoint), sha, settings, span)[0]
                for span in settings.chunk_ranges(facts["frames"])]  # fmt: skip

    steps.CALLS.clear()
    first = run()
    assert steps.CALLS == {"poses": 1, "reference": 1, "target": 1, "chunk": 3}  # 8 frames in chunks of 3
    second = run()
    assert second == first and steps.CALLS["chunk"] == 3 and steps.CALLS["poses"] == 1  # nothing recomputed
    kept = np.load(first[0])
    first[1].unlink()  # a crash lost one chunk
    third = run()
    assert steps.CALLS["chunk"] == 4 and third == first  # only that chunk is redone
    assert np.array_equal(np.load(third[0]), kept)
    out = tmp_path / "out" / "v.mp4"
    record = steps.publish_step(out, third, 25.0, None, {"stage_seconds": {"sampling": 1.0}})
    from fpdm_video.video import probe

    assert probe(out).num_frames == 8
    assert json.loads(out.with_suffix(".json").read_text()) == record and set(record["stage_seconds"]) == {"sampling", "encode"}


def test_a_finished_runs_work_folder_is_moved_aside_before_it_is_deleted(tmp_path, monkeypatch):
    """Killed while deleting, a run leaves no half work folder under its key, only a marked temporary folder."""
    from fpdm_video.temp_names import is_project_temp

    work = tmp_path / ".work" / "key"
    work.mkdir(parents=True)
    (work / "chunk-000000-x.npy").write_bytes(b"frames")
    (work / "carry-000000-x.safetensors").write_bytes(b"carry")

    def killed(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(steps.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        steps.remove_work(work)
    assert not work.exists()
    (left,) = work.parent.iterdir()
    assert is_project_temp(left) is not None and (left / "chunk-000000-x.npy").read_bytes() == b"frames"
    monkeypatch.undo()
    work.mkdir()
    steps.remove_work(work)
    assert list(work.parent.iterdir()) == [left]  # the leftover of a live process stays until it has ended
