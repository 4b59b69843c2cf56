"""transfer-video as a Prefect flow (prefect_test_harness, results in a temporary folder), run twice."""

from __future__ import annotations

import pytest

from factories_flows import prefect_env  # noqa: F401 (fixture)
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


@pytest.mark.slow
def test_transfer_video_flow_reuses_finished_stages(prefect_env, example_inputs, tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    from flows import steps
    from flows.transfer_video import transfer_video
    from fpdm_video.video import probe

    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(tmp_path / "root"))
    params = dict(video=str(example_inputs.video), signer=str(example_inputs.signer_image), output="runs/a.mp4",
                  max_frames=6, sampling={"steps": 1, "batch_size": 3}, chunk_frames=3, checkpoint=str(tiny_checkpoint), poses=str(example_inputs.poses))  # fmt: skip
    steps.CALLS.clear()
    result = transfer_video(**params, keep_work=True)
    assert probe(result["output"]).num_frames == 6
    assert result["output"] == str((tmp_path / "root" / "runs" / "a.mp4").resolve())
    assert steps.CALLS == {"poses": 1, "reference": 1, "target": 1, "chunk": 2, "encode": 1}
    (work,) = (tmp_path / "root" / ".work").iterdir()
    assert len(list(work.glob("chunk-*.npy"))) == 2
    again = transfer_video(**params)
    assert again["output"] == result["output"]
    # the second run re-encodes from the finished chunks and recomputes nothing else ...
    assert steps.CALLS == {"poses": 1, "reference": 1, "target": 1, "chunk": 2, "encode": 2}
    assert list((tmp_path / "root" / ".work").iterdir()) == []  # ... and, not asked to keep it, deletes its work folder
    assert sorted(p.name for p in (tmp_path / "root" / "runs").iterdir()) == ["a.json", "a.mp4"]


@pytest.mark.slow
def test_transfer_video_flow_refuses_an_escaping_output(prefect_env, example_inputs, tmp_path, monkeypatch):  # noqa: F811
    from flows.transfer_video import transfer_video
    from fpdm_video.errors import InputError

    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(tmp_path / "root"))
    with pytest.raises(InputError, match="leaves the output root"):
        transfer_video(video=str(example_inputs.video), signer=str(example_inputs.signer_image), output="../../etc/x.mp4")
