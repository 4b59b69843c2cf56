"""The flows refuse what would destroy their inputs, before any work, and do not retry bad input."""

from __future__ import annotations

import shutil

import pytest

from flows.retry import retry_unless_input_error
from fpdm_video.errors import InputError, VideoReadError

from factories_flows import prefect_env, signer_photos, source_dataset  # noqa: F401 (fixtures)
from factories_paths import tree_state
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


@pytest.mark.slow
@pytest.mark.parametrize(("output", "message"), [("ds", "is the input dataset"), ("ds/augmented", "lies inside the input folder dataset"),
                                                 ("ds/features/more", "lies inside the input folder dataset")])  # fmt: skip
def test_augment_dataset_refuses_its_own_source(prefect_env, source_dataset, signer_photos, tiny_checkpoint, tmp_path,  # noqa: F811
                                                monkeypatch, output, message):  # fmt: skip
    from flows.augment_dataset import augment_dataset

    root = tmp_path / "root"
    dataset = shutil.copytree(source_dataset, root / "ds")
    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(root))
    before = tree_state(tmp_path)
    with pytest.raises(InputError, match=message):
        augment_dataset(dataset=str(dataset), signers=[str(signer_photos[0])], output=output, clips=1, sampling={"steps": 1},
                        checkpoint=str(tiny_checkpoint))  # fmt: skip
    assert tree_state(tmp_path) == before  # the source is byte-identical, and nothing was added anywhere


@pytest.mark.slow
def test_augment_dataset_refuses_an_output_holding_the_source(prefect_env, source_dataset, signer_photos, tiny_checkpoint,  # noqa: F811
                                                              tmp_path, monkeypatch):  # fmt: skip
    from flows.augment_dataset import augment_dataset

    root = tmp_path / "root"
    dataset = shutil.copytree(source_dataset, root / "all" / "ds")
    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(root))
    before = tree_state(tmp_path)
    with pytest.raises(InputError, match="output .* contains the input dataset"):
        augment_dataset(dataset=str(dataset), signers=[str(signer_photos[0])], output="all", clips=1, sampling={"steps": 1},
                        checkpoint=str(tiny_checkpoint))  # fmt: skip
    assert tree_state(tmp_path) == before


@pytest.mark.slow
@pytest.mark.parametrize("guidance", [float("inf"), 1e30, float("nan")])
def test_transfer_video_flow_refuses_guidance_out_of_range(prefect_env, example_inputs, tiny_checkpoint, tmp_path,  # noqa: F811
                                                           monkeypatch, guidance):  # fmt: skip
    from flows.transfer_video import transfer_video

    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(tmp_path / "root"))
    with pytest.raises(InputError, match="guidance must be a number from 1"):
        transfer_video(video=str(example_inputs.video), signer=str(example_inputs.signer_image), output="a.mp4",
                       sampling={"guidance": guidance}, checkpoint=str(tiny_checkpoint))  # fmt: skip
    assert not (tmp_path / "root").exists()  # refused before the output root was even made


def test_tasks_retry_other_failures_but_not_bad_input():
    from prefect.states import Failed

    from flows.augment_dataset import augment_clip_task
    from flows.transfer_video import poses_task, probe_task, publish_task, reference_task

    assert retry_unless_input_error(None, None, Failed(data=VideoReadError("in.mp4 is not a video"))) is False
    assert retry_unless_input_error(None, None, Failed(data=OSError("the network share went away"))) is True
    assert probe_task.retries == 2 and probe_task.retry_condition_fn is retry_unless_input_error
    assert augment_clip_task.retry_condition_fn is retry_unless_input_error
    assert all(t.retry_condition_fn is retry_unless_input_error for t in (poses_task, reference_task, publish_task))
