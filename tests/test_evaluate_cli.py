"""The evaluation CLI in both forms, on small generated inputs with known answers."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from fpdm_video.data.synthetic_dataset import SyntheticDatasetConfig, write_synthetic_dataset
from fpdm_video.evaluate import main
from fpdm_video.metrics.image import PSNR_CAP
from fpdm_video.transfer import main as transfer_main

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def transferred(example_inputs, tiny_checkpoint, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("eval") / "out.mp4"
    assert transfer_main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--poses",
                          str(example_inputs.poses), "--checkpoint", str(tiny_checkpoint), "-o", str(out),
                          "--steps", "1", "--quiet"]) == 0  # fmt: skip
    return out


def test_video_form_report(transferred, example_inputs, tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    report_path = tmp_path / "report.json"
    code = main(["--output", str(transferred), "--driving", str(example_inputs.video), "--signer", str(example_inputs.signer_image),
                 "--driving-poses", str(example_inputs.poses), "--checkpoint", str(tiny_checkpoint),
                 "--ground-truth", str(transferred), "--json", str(report_path), "--plots", str(tmp_path / "plots"), "--quiet"])  # fmt: skip
    assert code == 0
    report = json.loads(report_path.read_text())
    assert report["frames"] == 8
    # the output against itself as ground truth: the known answers
    assert report["image"]["psnr"]["mean"] == PSNR_CAP
    assert report["image"]["ssim_fpdm"]["mean"] == pytest.approx(1.0)
    temporal = report["temporal"]
    assert temporal["flicker_output"]["count"] == 7 and temporal["warping_error_driving"]["count"] == 7
    assert set(report["pose_fidelity"]["regions"]) == {"body", "left_hand", "right_hand", "face"}
    assert report["identity"]["stage1"]["to_reference"]["count"] == 8 and "own view" in report["identity"]["stage1"]["view"]
    face = report["identity"]["face"]  # cartoon frames: dlib may find no face, which must not fail
    assert face["frames"] == 8 and 0 <= face["detection_rate"]["output"] <= 1 and set(face["share_under_threshold"]) == {
        "to_reference", "to_driving_signer"}
    for key in ("lpips", "fid"):
        assert report[key]["reason"].startswith(f"not computed: give --{key}-weights")
    assert (tmp_path / "plots" / "out.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "temporal.flicker_output (mean)" in out and "not computed: give --lpips-weights / --fid-weights" in out
    assert "face distance (<0.6 same) / stage-1 similarity (model's own view)" in out


def test_video_form_without_ground_truth_says_so(transferred, example_inputs, tmp_path):  # noqa: F811
    from pipelines.evaluation.video_eval import evaluate_video

    report, _ = evaluate_video(transferred, example_inputs.video, example_inputs.signer_image,
                               driving_poses_file=example_inputs.poses)  # fmt: skip
    assert report["image"]["status"] == "unavailable" and "ground truth" in report["image"]["reason"]
    assert report["identity"]["stage1"]["status"] == "unavailable"


def test_dataset_form(tmp_path):
    cfg = SyntheticDatasetConfig(clips=2, frames=4, width=32, height=32, seed=3, split="test")
    truth = tmp_path / "gt"
    write_synthetic_dataset(truth, cfg)
    generated = tmp_path / "gen"
    shutil.copytree(truth, generated)
    frame = sorted((generated / "features").rglob("*.png"))[0]
    pixels = np.asarray(Image.open(frame)).copy()
    pixels[:8] = 255 - pixels[:8]  # damage one frame of one clip
    Image.fromarray(pixels).save(frame)
    report_path = tmp_path / "r.json"
    assert main(["--dataset", str(generated), "--ground-truth", str(truth), "--json", str(report_path), "--quiet"]) == 0
    report = json.loads(report_path.read_text())
    assert report["clips_compared"] == 2
    psnr = [clip["psnr"]["min"] for clip in report["per_clip"].values()]
    assert sorted(psnr)[0] < 30 and sorted(psnr)[1] == PSNR_CAP
    assert report["overall"]["ssim_gauss"]["count"] == 8
    assert report["identity"]["face"]["frames"] == 8 and "to_ground_truth" in report["identity"]["face"]
    assert report["fid"]["status"] == "unavailable"


def test_missing_arguments_exit_2(tmp_path, capsys):
    assert main(["--output", str(tmp_path / "o.mp4")]) == 2
    assert "--driving" in capsys.readouterr().err
    assert main(["--dataset", str(tmp_path)]) == 2
