"""Hard input for the transfer: each case a clear message, the right exit code, and no partial output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fpdm_video.transfer import main
from fpdm_video.video import read_video, write_video

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

FAST = ["--steps", "1", "--quiet"]


def run(args, capsys):
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_reference_without_a_person(example_inputs, tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 160, 3), 200, np.uint8)).save(blank)
    out = tmp_path / "out.mp4"
    code, err = run([example_inputs.video, "--signer", blank, "--checkpoint", tiny_checkpoint, "-o", out, *FAST], capsys)
    assert code == 2 and "no person was found" in err and "wall.png" in err
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_reference_without_hands_warns_and_goes_on(example_inputs, tiny_checkpoint, tmp_path, caplog):  # noqa: F811
    # MediaPipe finds the cartoon signer's body and face but not its hands
    out = tmp_path / "out.mp4"
    code = main([str(example_inputs.poses), "--signer", str(example_inputs.signer_image), "--checkpoint",
                 str(tiny_checkpoint), "-o", str(out), "--max-frames", "2", "--steps", "1"])  # fmt: skip
    assert code == 0
    missing = json.loads(out.with_suffix(".json").read_text())["signer"]["missing_parts"]
    assert "left_hand" in missing or "right_hand" in missing
    assert "shows no" in caplog.text


def test_frames_without_a_person_reuse_the_nearest_pose(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    clip = read_video(example_inputs.video)
    frames = clip.frames.copy()
    frames[5:7] = 230  # two empty frames
    video = write_video(tmp_path / "gaps.mp4", frames, fps=clip.fps)
    out = tmp_path / "out.mp4"
    code = main([str(video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint), "-o", str(out), *FAST])
    assert code == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["no_person_frames"] == [5, 6]
    assert record["frames"] == 8
    # frames 5 and 6 were either bridged by the repair or given the nearest good pose (4 or 7)
    assert set(record["reused_pose"]) <= {"5", "6"} and set(record["reused_pose"].values()) <= {4, 7}


def test_poses_with_another_frame_count(example_inputs, tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    from fpdm_video.pose import load_holistic, write_pose

    short = write_pose(load_holistic(example_inputs.poses).frames(0, 5), tmp_path / "short.pose")
    out = tmp_path / "out.mp4"
    code, err = run([example_inputs.video, "--signer", example_inputs.signer_image, "--checkpoint", tiny_checkpoint,
                     "--poses", short, "-o", out, *FAST], capsys)  # fmt: skip
    assert code == 2 and "5 frames of poses" in err and "8 frames" in err
    assert not out.exists()


def test_unwritable_output_folder(example_inputs, tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = blocker / "sub" / "out.mp4"
    code, err = run([example_inputs.poses, "--signer", example_inputs.signer_image, "--checkpoint", tiny_checkpoint,
                     "-o", out, *FAST], capsys)  # fmt: skip
    assert code == 2 and "error:" in err
    assert not out.exists()


@pytest.mark.parametrize("case", ["missing", "incomplete"])
def test_bad_checkpoint_folder(example_inputs, tiny_checkpoint, tmp_path, capsys, case):  # noqa: F811
    ckpt = tmp_path / "ckpt"
    if case == "incomplete":
        ckpt.mkdir()
        (ckpt / "config.yaml").write_text((tiny_checkpoint / "config.yaml").read_text())
    out = tmp_path / "out.mp4"
    code, err = run([example_inputs.poses, "--signer", example_inputs.signer_image, "--checkpoint", ckpt, "-o", out, *FAST], capsys)
    assert code == 2
    assert ("does not exist" in err) if case == "missing" else ("model.safetensors is missing" in err)
    assert not out.exists()


def test_bad_settings(example_inputs, tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    code, err = run([example_inputs.poses, "--signer", example_inputs.signer_image, "--checkpoint", tiny_checkpoint,
                     "--start", "50", "-o", tmp_path / "o.mp4", *FAST], capsys)  # fmt: skip
    assert code == 2 and "start 50 is past" in err
    code, err = run([tmp_path / "none.mp4", "--signer", example_inputs.signer_image, "--checkpoint", tiny_checkpoint], capsys)
    assert code == 2 and "does not exist" in err


def test_ctrl_c_leaves_no_partial_video(example_inputs, tiny_checkpoint, tmp_path, capsys, monkeypatch):  # noqa: F811
    import pipelines.transfer.api as api

    real = api.render_frames

    def interrupted(*args, **kwargs):
        chunks = real(*args, **kwargs)
        yield next(chunks)  # one batch of frames is encoded, then the user presses Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "render_frames", interrupted)
    out = tmp_path / "out.mp4"
    code, err = run([example_inputs.poses, "--signer", example_inputs.signer_image, "--checkpoint", tiny_checkpoint,
                     "-o", out, "--batch-size", "2", *FAST], capsys)  # fmt: skip
    assert code == 130 and "interrupted" in err
    assert not out.exists() and not out.with_suffix(".json").exists()
    assert leftovers(tmp_path) == []  # the temporary file is gone too
