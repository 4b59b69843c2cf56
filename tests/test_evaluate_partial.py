"""evaluate lines a partial output (--start/--end/--max-frames) up with its driving video through its record."""

from __future__ import annotations

import json
import shutil

import pytest

from fpdm_video.errors import InputError
from fpdm_video.evaluate import main
from fpdm_video.transfer import main as transfer_main
from pipelines.evaluation.alignment import driving_range, parse_range
from pipelines.evaluation.video_eval import evaluate_video

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def partial(example_inputs, tiny_checkpoint, tmp_path_factory):  # noqa: F811
    """Frames 2:5 of the 8-frame driving video, with its record beside it."""
    out = tmp_path_factory.mktemp("partial") / "part.mp4"
    assert transfer_main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--poses", str(example_inputs.poses),
                          "--checkpoint", str(tiny_checkpoint), "-o", str(out), "--start", "2", "--max-frames", "3",
                          "--steps", "1", "--quiet"]) == 0  # fmt: skip
    return out


def test_the_record_gives_the_frame_range(partial, example_inputs, tmp_path):  # noqa: F811
    report_path = tmp_path / "r.json"
    assert main(["--output", str(partial), "--driving", str(example_inputs.video), "--signer", str(example_inputs.signer_image),
                 "--driving-poses", str(example_inputs.poses), "--json", str(report_path), "--quiet"]) == 0  # fmt: skip
    report = json.loads(report_path.read_text())
    assert report["frames"] == 3 and report["driving_range"]["start"] == 2 and report["driving_range"]["end"] == 5
    assert "record" in report["driving_range"]["from"]
    assert report["temporal"]["flicker_driving"]["count"] == 2  # 3 driving frames compared, not 8


def test_the_range_given_wins_and_is_checked(partial, example_inputs, tmp_path, capsys):  # noqa: F811
    alone = tmp_path / "alone.mp4"
    shutil.copy(partial, alone)  # no record beside it
    report, _ = evaluate_video(alone, example_inputs.video, example_inputs.signer_image, driving_poses_file=example_inputs.poses,
                               frames=(2, 5))  # fmt: skip
    assert report["driving_range"] == {"start": 2, "end": 5, "from": "--driving-range"}
    args = ["--output", str(alone), "--driving", str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no record" in err and "give --driving-range START:END" in err and err.count("\n") == 1  # one line
    for bad, message in (("2:9", "outside the driving video's 8 frames"), ("0:2", "gives 2 frames (0:2) but the output has 3"),
                         ("a:b", "must be START:END")):  # fmt: skip
        assert main(args + ["--driving-range", bad]) == 2
        assert message in capsys.readouterr().err


def test_a_record_that_contradicts_the_driving_video(partial, example_inputs, tmp_path):  # noqa: F811
    copy = tmp_path / "part.mp4"
    shutil.copy(partial, copy)
    record = json.loads(partial.with_suffix(".json").read_text())
    copy.with_suffix(".json").write_text(json.dumps({**record, "input": {**record["input"], "sha256": "0" * 64}}))
    with pytest.raises(InputError, match="made from another file"):
        driving_range(copy, example_inputs.video, 3, 8, 25.0)
    copy.with_suffix(".json").write_text(json.dumps({**record, "fps": 12.5}))
    with pytest.raises(InputError, match="made at 12.5 fps"):
        driving_range(copy, example_inputs.video, 3, 8, 25.0)
    copy.with_suffix(".json").write_text("{not json")
    with pytest.raises(InputError, match="no readable frame_range"):
        driving_range(copy, example_inputs.video, 3, 8, 25.0)
    assert parse_range("3:7") == (3, 7)


def test_the_report_cannot_replace_the_record_it_reads(partial, example_inputs, capsys):  # noqa: F811
    record = partial.with_suffix(".json")
    before = record.read_bytes()
    assert main(["--output", str(partial), "--driving", str(example_inputs.video), "--signer", str(example_inputs.signer_image),
                 "--json", str(record), "--quiet"]) == 2  # fmt: skip
    assert "--output's record" in capsys.readouterr().err and record.read_bytes() == before
