"""The README's timing figures, measured in one run on one machine, each with its baseline.

Three parts, in this order (each can be left out):

- ``sampler``: ``bench_speed.py --presets`` on the demo model (8 real-pose frames, fp32, 2 threads):
  the seconds of the paper's sampler as the official code runs it (three UNet branches, nothing
  reused: the *three-branch baseline*), of ``--speed paper`` (the same output with the exact
  savings) and of the ``balanced`` and ``fast`` presets, and of ``turbo`` with the shipped demo
  student (``--student``); each preset's speedup is given against both, with each stage's share.
- ``cli``: the whole command a user runs, ``python -m fpdm_video.transfer`` on the real 58-frame test
  video with the embedded demo model, once per ``--speed`` preset (turbo: ``--checkpoint`` the
  student), interleaved ``--repeats`` times:
  wall time from the command's start to its exit (start-up, model load and pose extraction
  included), frames per second end to end, the stage seconds of its record, and an upper bound on
  the time to the first rendered frames (the wall time less the record's ``run_seconds``, plus its
  ``first_frames_seconds``: start-up is counted, the exit's few tenths of a second too). The CLI
  reads the reference and the poses while its model loads, so the record's stages overlap and do
  not add up to the run; ``model_load`` is the load, from the reading's start.
- ``fresh_clone``: ``git clone`` of this checkout's HEAD into a temporary folder and ``make demo`` there
  (a new venv, the install and the demo job), then ``make demo`` again (the job alone). pip's own
  download cache is used as it is on the machine (``--no-pip-cache`` turns it off, to time the
  downloads too).

The machine's load average is recorded before and after each part: take the figures on a quiet
machine (nothing else running). The JSON goes to ``benchmarks/results/readme_figures_<device>.json``
and a Markdown summary is printed.

    python benchmarks/readme_figures.py
    python benchmarks/readme_figures.py --parts cli --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_sampler import device_name, git_commit
from result_file import check_result, write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
SHARED = ROOT.parent / "shared" / "data" / "real"
PARTS = ("sampler", "cli", "fresh_clone")
PRESETS = ("paper", "balanced", "fast", "turbo")
STUDENT = ROOT / "fpdm_video" / "weights" / "demo-turbo"  # the demo model's shipped few-step student


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> float:
    """Run ``cmd`` (its output thrown away unless it fails); its wall seconds."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}")
    return seconds


def sampler_part(work: Path, threads: int, student: Path | None) -> dict:
    out = work / "speed.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_speed.py"), "--presets", "--threads", str(threads), "--out", str(out)]
    timed(cmd + (["--student", str(student)] if student else []), ROOT)
    result = json.loads(out.read_text())
    rows = result["variants"]
    paper3, exact = rows["paper"]["seconds_min"], rows["exact"]["seconds_min"]
    presets = [k for k in ("balanced", "fast", "turbo") if k in rows]
    return {
        "what": "bench_speed.py --presets: 8 real-pose frames, demo, fp32, min of 3 interleaved runs",
        "seconds": {"three_branch_baseline": paper3, "speed_paper": exact, **{k: rows[k]["seconds_min"] for k in presets}},
        "speedup_vs_three_branch_baseline": {k: round(paper3 / rows[k]["seconds_min"], 2) for k in ("exact", *presets)},
        "speedup_vs_speed_paper": {k: round(exact / rows[k]["seconds_min"], 2) for k in presets},
        "stage_shares": {k: {stage: round(v["share"], 3) for stage, v in row["stages"].items()} for k, row in result["stage_shares"].items()},
    }  # fmt: skip


def cli_part(work: Path, repeats: int, presets: tuple[str, ...], student: Path | None) -> dict:
    video, signer = SHARED / "test_video.mp4", SHARED / "fake_human.png"
    runs: dict[str, list[dict]] = {p: [] for p in presets}
    for _ in range(repeats):  # interleaved, so drifts of the machine hit every preset alike
        for preset in presets:
            out = work / f"cli_{preset}.mp4"
            cmd = [sys.executable, "-m", "fpdm_video.transfer", str(video), "--signer", str(signer), "-o", str(out),
                   "--speed", preset, "--quiet"] + (["--checkpoint", str(student)] if preset == "turbo" else [])  # fmt: skip
            wall = timed(cmd, ROOT)
            record = json.loads(out.with_suffix(".json").read_text())
            run = record.get("run_seconds") or sum(record["stage_seconds"].values())  # records before run_seconds: stages in turn
            runs[preset].append({"wall_seconds": round(wall, 2), "frames": record["frames"],
                                 "stage_seconds": record["stage_seconds"], "run_seconds": record.get("run_seconds"), "dtype": record["dtype"],
                                 "first_frames_at_most_seconds": round(wall - run + record["first_frames_seconds"], 2)})  # fmt: skip
    summary = {}
    for preset, rows in runs.items():
        walls = sorted(r["wall_seconds"] for r in rows)
        best = min(rows, key=lambda r: r["wall_seconds"])
        summary[preset] = {"wall_seconds_min": walls[0], "wall_seconds_max": walls[-1],
                           "frames_per_second_end_to_end": round(best["frames"] / walls[0], 3),
                           "first_frames_at_most_seconds": min(r["first_frames_at_most_seconds"] for r in rows),
                           "wall_ratio_vs_paper": round(min(r["wall_seconds"] for r in runs["paper"]) / walls[0], 2)
                           if "paper" in runs else None}  # fmt: skip
    return {"what": "python -m fpdm_video.transfer on the real 58-frame test video, demo model, --dtype auto, --quiet",
            "repeats": repeats, "summary": summary, "runs": runs}  # fmt: skip


def fresh_clone_part(work: Path, pip_cache: bool) -> dict:
    clone = work / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    if not pip_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    first = timed(["make", "demo"], clone, env)
    again = timed(["make", "demo"], clone, env)
    return {"what": "git clone of HEAD, then `make demo` (venv, install, demo job), then `make demo` again (the job alone)",
            "pip_download_cache": pip_cache, "make_demo_fresh_seconds": round(first, 1), "make_demo_again_seconds": round(again, 1)}  # fmt: skip


def markdown(result: dict) -> str:
    lines = [f"On {result['device']} ({os.cpu_count()} cores), commit {result['commit']}; load before each part: "
             + ", ".join(f"{k} {v['load_before'][0]}" for k, v in result["parts"].items())]  # fmt: skip
    parts = result["parts"]
    if "sampler" in parts:
        s = parts["sampler"]
        lines.append(f"- sampler, 8 frames fp32: `--speed paper` {s['speedup_vs_three_branch_baseline']['exact']}x the three-branch baseline; "
                     + "; ".join(f"{k} {v}x `--speed paper` ({s['speedup_vs_three_branch_baseline'][k]}x the baseline)"
                                 for k, v in s["speedup_vs_speed_paper"].items()))  # fmt: skip
    if "cli" in parts:
        for preset, row in parts["cli"]["summary"].items():
            lines.append(f"- CLI, real 58-frame video, `--speed {preset}`: {row['wall_seconds_min']} s (max {row['wall_seconds_max']}), "
                         f"{row['frames_per_second_end_to_end']} frames/s end to end, first frames within {row['first_frames_at_most_seconds']} s, "
                         f"{row['wall_ratio_vs_paper']}x the wall time of paper")  # fmt: skip
    if "fresh_clone" in parts:
        f = parts["fresh_clone"]
        lines.append(f"- `make demo` from a fresh clone: {f['make_demo_fresh_seconds']} s (pip cache {'on' if f['pip_download_cache'] else 'off'}); "
                     f"again: {f['make_demo_again_seconds']} s")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    p.add_argument("--repeats", type=int, default=2, help="interleaved runs of each preset in the cli part")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-pip-cache", action="store_true", help="fresh_clone: time pip's downloads too")
    p.add_argument("--student", type=Path, default=STUDENT, help="the few-step student for turbo (default: the demo's)")
    p.add_argument("--presets", nargs="+", choices=PRESETS, default=list(PRESETS), help="the cli part's presets (paper first)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if {"sampler", "cli"} & set(args.parts) and not SHARED.is_dir():
        print(f"error: the shared real data is not at {SHARED}", file=sys.stderr)
        return 2
    import torch

    out = check_result(args.out or RESULTS_DIR / "readme_figures_cpu.json", {})
    student = args.student if (args.student / "config.yaml").is_file() else None  # without one, turbo is left out
    presets = tuple(p for p in args.presets if student or p != "turbo")  # without a student, turbo is left out
    result = {"what": "the README's timing figures, one run", "device": device_name(torch.device("cpu")), "cores": os.cpu_count(),
              "commit": git_commit(), "parts": {}}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="readme-figures-") as tmp:
        for part in args.parts:
            before = load()
            if part == "sampler":
                row = sampler_part(Path(tmp), args.threads, student)
            elif part == "cli":
                row = cli_part(Path(tmp), args.repeats, presets, student)
            else:
                row = fresh_clone_part(Path(tmp), not args.no_pip_cache)
            result["parts"][part] = {**row, "load_before": before, "load_after": load()}
    write_result(out, result)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
