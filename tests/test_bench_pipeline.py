"""Smoke test of benchmarks/bench_pipeline.py on generated inputs and a tiny checkpoint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_bench_pipeline_times_every_stage(example_inputs, tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("bench_pipeline", None)
    import bench_pipeline

    out = tmp_path / "pipeline.json"
    argv = [str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
            "--steps", "1", "--max-frames", "4", "--out", str(out)]  # fmt: skip
    assert bench_pipeline.main(argv) == 0
    result = json.loads(out.read_text())
    assert result["frames"] == 4 and result["checkpoint"] == "tiny"
    assert result["steps"] == 1 and result["scheduler"] == "ddpm"  # --steps resolved into the settings; the paper's sampler
    stages = result["stages"]
    assert list(stages) == ["reference_photo", "decode", "pose_extraction", "repair_retarget", "pose_maps", "sampling", "encode"]
    assert abs(sum(s["share"] for s in stages.values()) - 1.0) < 1e-3
    assert result["peak_rss_mb"] > 0 and result["device_type"] == "cpu" and result["peak_gpu_mb"] is None


def test_ablations_smoke(tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("ablations", None)
    import ablations

    out = tmp_path / "abl.json"
    only = ["independent noise per frame", "retargeting off"]
    argv = ["--checkpoint", str(tiny_checkpoint), "--cases", "1", "--frames", "3", "--steps-scale", "0.05", "--out", str(out), "--only", *only]
    assert ablations.main(argv) == 0
    results = json.loads(out.read_text())["results"]
    assert list(results) == only
    # independent noise changes every frame; the consecutive-frame flicker shows it
    assert results["independent noise per frame"]["flicker"] > 0.01
    assert results["retargeting off"]["flicker_truth"] == results["independent noise per frame"]["flicker_truth"]


def test_bench_speed_smoke(real_data, tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("bench_speed", None)
    import bench_speed

    monkeypatch.setattr(bench_speed, "SHARED", real_data)
    out = tmp_path / "speed.json"
    student = _tiny_student(tiny_checkpoint, tmp_path / "student")
    argv = ["--checkpoint", str(tiny_checkpoint), "--frames", "2", "--steps", "2", "--batch-size", "2", "--repeats", "1",
            "--threads", "1", "--bf16", "--presets", "--student", str(student), "--out", str(out)]  # fmt: skip
    assert bench_speed.main(argv) == 0
    result = json.loads(out.read_text())
    variants = result["variants"]
    exact = ["paper", "two_branches", "pose_feature", "context_kv", "shared_start", "exact"]
    assert list(variants) == [*exact, "deep_cache_2", "deep_cache_3", "exact_bf16", "balanced", "fast", "turbo", "turbo_vae"]
    turbo = variants["turbo"]["settings"]
    assert turbo["steps"] == 1 and turbo["scheduler"] == "lcm" and turbo["decoder"] == "tiny"  # the student's own, not --steps
    assert variants["turbo_vae"]["settings"] == {**turbo, "decoder": "vae"}  # the same student, only the decoder differs
    assert variants["turbo_vae"]["preset"]["decoder"] == "vae" and variants["turbo"]["preset"]["decoder"] == "tiny"
    shares = result["stage_shares"]
    assert list(shares) == ["paper", "exact", "balanced", "fast", "turbo", "turbo_vae"]
    for row in shares.values():
        assert list(row["stages"]) == ["pose_maps", "encoders", "unet", "decoder", "video_encode", "other"]
        assert abs(sum(s["share"] for s in row["stages"].values()) - 1.0) < 1e-6
        assert all(row["stages"][s]["seconds"] > 0 for s in ("pose_maps", "encoders", "unet", "decoder", "video_encode"))
    assert variants["paper"]["speedup_vs_paper"] == 1.0 and variants["paper"]["max_abs_difference_vs_paper"] == 0.0
    assert all(variants[k]["max_abs_difference_vs_paper"] <= 1e-4 for k in exact)
    assert variants["fast"]["preset"]["steps"] == 6 and variants["fast"]["preset"]["dtype"] == "bf16"
    assert 10 < variants["exact_bf16"]["psnr_vs_fp32_exact_db"] < 100  # bf16 rounds: close to fp32, not equal
    assert 10 < variants["deep_cache_2"]["psnr_vs_fp32_exact_db"] < 100  # an approximation: close, not equal
    assert variants["balanced"]["preset"]["deep_cache"] == 3


def _tiny_student(teacher: Path, out: Path) -> Path:
    """A 1-step student of ``teacher`` with a tiny decoder, untrained (what the benchmark's plumbing needs)."""
    import torch

    from fpdm_video.config import StudentConfig, TinyDecoderConfig
    from fpdm_video.models.checkpoint import load_model, save_model
    from fpdm_video.models.student import student_from_teacher
    from fpdm_video.models.tiny_decoder import TinyDecoder

    torch.manual_seed(0)
    student = student_from_teacher(load_model(teacher), StudentConfig(teacher={"name": "tiny"}, steps=1, teacher_steps=10))
    student.config.tiny_decoder = TinyDecoderConfig(channels=8, blocks=1)
    student.tiny_decoder = TinyDecoder(student.latent_channels, student.vae_factor, student.config.tiny_decoder)
    return save_model(student, out)


def test_gpu_check_plumbing_on_the_cpu(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("gpu_check", None)
    import gpu_check

    assert gpu_check.main([str(tmp_path), "--device", "cpu", "--size", "tiny", "--dtype", "fp32", "--budget", "0.5"]) == 0
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    assert result["equality"]["max_abs_difference_exact_vs_paper"] <= 1e-4
    runs, skipped = result["runs"], result["skipped"]
    # every batch x variant, turbo at B = 1, 16 and 64, and the compiled runs at B = 16
    assert runs and len(runs) + len(skipped) == 4 * 4 + 3 + 4
    assert all(r["flops_per_frame"] > 0 and r["frames_per_second"] > 0 for r in runs)
    assert {r["variant"] for r in runs} <= {"naive", "paper", "balanced", "fast", "turbo"}
    assert result["settings"]["turbo"]["steps"] == 4 and result["settings"]["turbo"]["decoder"] == "tiny"


def test_preset_quality_pairs_every_case_with_paper(tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("preset_quality", None)
    import preset_quality

    student = _tiny_student(tiny_checkpoint, tmp_path / "student")
    out, frames = tmp_path / "quality.json", tmp_path / "frames"
    common = ["--checkpoint", str(tiny_checkpoint), "--seeds", "5", "--cases", "2", "--threads", "1", "--frames-dir", str(frames),
              "--out", str(out)]  # fmt: skip
    assert preset_quality.main([*common, "--methods", "paper", "teacher_ode"]) == 0
    assert preset_quality.main([*common, "--methods", "turbo", "--student", str(student)]) == 0  # adds to the same file
    seed = json.loads(out.read_text())["seeds"]["5"]
    assert list(seed) == ["paper", "teacher_ode", "turbo"]
    assert seed["teacher_ode"]["settings"]["scheduler"] == "ddim" and seed["teacher_ode"]["settings"]["steps"] == 40
    turbo = seed["turbo"]
    assert turbo["settings"]["scheduler"] == "lcm" and len(turbo["per_case"]["psnr"]) == 2
    for k, diffs in turbo["vs_paper"].items():  # paired by case: the mean difference is the difference of the means
        assert diffs["mean"] == pytest.approx(turbo["summary"][k]["mean"] - seed["paper"]["summary"][k]["mean"])
    assert len(turbo["per_case"]["psnr_vs_teacher_ode"]) == 2 and turbo["summary"]["sharpness"]["mean"] > 0
