"""Dataset augmentation: kill after the first clip, rerun, and exactly the missing clips appear; failures stay isolated."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict

import pytest

from flows import augment_steps, steps
from flows.augment_steps import augment_clip, plan_jobs, run_record_path
from fpdm_video.video.phoenix import PhoenixDataset
from pipelines.settings import SamplingSettings
from pipelines.transfer import TransferSettings

from factories_flows import prefect_env, signer_photos, source_dataset  # noqa: F401 (fixtures)
from factories_transfer import tiny_checkpoint  # noqa: F401 (fixture)

SETTINGS = TransferSettings(SamplingSettings(steps=1, batch_size=3))


def corpus_rows(root, split="train"):
    path = root / "annotations" / "manual" / f"PHOENIX-2014-T.{split}.corpus.csv"
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="|"))


def hidden_leftovers(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*") if p.name not in (".lock",) and not p.name.endswith(".lock"))


def test_kill_and_rerun_produces_exactly_the_missing_clips(source_dataset, signer_photos, tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    jobs = plan_jobs(source_dataset, "train", [str(p) for p in signer_photos], clips=3)
    assert [j.name for j in jobs][:2] == [f"{jobs[0].source}__anna", f"{jobs[0].source}__ben"] and len(jobs) == 6
    out = tmp_path / "augmented"
    sha = steps.model_sha(tiny_checkpoint)
    real_render = augment_steps.render_frames

    def dying(*args, **kwargs):  # the process dies while the third clip's frames are being written
        chunks = real_render(*args, **kwargs)
        yield next(chunks)
        raise KeyboardInterrupt

    steps.CALLS.clear()
    for k, job in enumerate(jobs):
        if k == 2:
            monkeypatch.setattr(augment_steps, "render_frames", dying)
            with pytest.raises(KeyboardInterrupt):
                augment_clip(job, source_dataset, "train", out, str(tiny_checkpoint), sha, SETTINGS)
            break
        augment_clip(job, source_dataset, "train", out, str(tiny_checkpoint), sha, SETTINGS)
    monkeypatch.setattr(augment_steps, "render_frames", real_render)
    assert len(corpus_rows(out)) == 2

    from fpdm_video.video.phoenix_writer import PhoenixWriter

    PhoenixWriter(out, "train").recover(remove_orphans=True)  # what the flow does first on a rerun
    statuses = [augment_clip(j, source_dataset, "train", out, str(tiny_checkpoint), sha, SETTINGS)["status"] for j in jobs]
    assert statuses == ["skipped", "skipped", "written", "written", "written", "written"]
    assert steps.CALLS["augment_clip"] == 2 + 1 + 4  # two done, one killed, the four missing
    rows = corpus_rows(out)
    assert sorted(r["name"] for r in rows) == sorted(j.name for j in jobs)  # 6 rows, no duplicates
    sources = {s.name: s for s in PhoenixDataset(source_dataset).samples("train")}
    for row in rows:
        src = sources[row["name"].split("__")[0]]
        assert row["orth"] == src.orth and row["translation"] == src.translation
        assert row["speaker"] == row["name"].split("__")[1]
    dataset = PhoenixDataset(out)
    assert all(dataset.num_frames(s) == 3 for s in dataset.samples("train"))
    assert hidden_leftovers(out / "features") == []
    for job in jobs:  # each written clip's run record keeps the settings it was rendered with
        record = json.loads(run_record_path(out, "train", job.name).read_text())
        assert record["status"] == "written" and record["settings"] == asdict(SETTINGS)


@pytest.mark.slow
def test_flow_reports_a_failing_clip_and_finishes_the_others(prefect_env, source_dataset, signer_photos, tiny_checkpoint,  # noqa: F811
                                                             tmp_path, monkeypatch):  # fmt: skip
    from flows.augment_dataset import augment_dataset

    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(tmp_path / "root"))
    real = augment_steps.load_signer

    def broken_for_ben(path, *args, **kwargs):
        if "ben" in str(path):
            raise RuntimeError("simulated failure for ben")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(augment_steps, "load_signer", broken_for_ben)
    result = augment_dataset(dataset=str(source_dataset), signers=[str(p) for p in signer_photos], output="aug",
                             clips=2, sampling={"steps": 1, "batch_size": 3}, checkpoint=str(tiny_checkpoint))  # fmt: skip
    status = {r["clip"].split("__")[1]: r["status"] for r in result["clips"]}
    assert result["failed"] == 2 and status == {"anna": "written", "ben": "failed"}
    assert all("simulated failure" in r["error"] for r in result["clips"] if r["status"] == "failed")
    assert len(corpus_rows(tmp_path / "root" / "aug")) == 2
    for row in (r for r in result["clips"] if r["status"] == "written"):  # the summary rows carry the resolved settings
        assert (row["settings"]["sampling"]["steps"], row["settings"]["sampling"]["batch_size"]) == (1, 3)
