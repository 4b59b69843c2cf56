"""Retargeting onto a reference with foreshortened bones: class ratios with the foreshortening check off and on.

Two measurements on real data (``../shared/data/real`` or ``FPDM_SHARED_DATA``):

- **Self-reference.** Each frame (with both shoulders) of a real pose sequence is the reference for
  the whole sequence of the same signer, so every bone class's ratio over the shoulder ratio would
  ideally be 1. Per class: the mean of |ratio / shoulder ratio - 1| over frames, its range, and the
  share of frames off by more than 10 %; and how often each bone was found foreshortened.
- **Reference photo.** The real reference photo (forearms pointing at the camera) fitted to the real
  test video, as the transfer does it: the class ratios and fallback notes, off and on.

"off" is ``RetargetConfig(min_relative_length=0, min_side_ratio=0)``; "on" the defaults.

    python benchmarks/bench_retarget_foreshortening.py --out benchmarks/results/retarget_foreshortening.json
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

from bench_sampler import git_commit
from fpdm_video.pose import extract_poses, load_holistic
from fpdm_video.pose.retarget import RetargetConfig, retarget_with_report
from fpdm_video.pose.sequence import PoseSequence
from pipelines.transfer.record import package_versions
from pipelines.transfer.signer import load_signer
from pipelines.transfer.stages import prepare_poses
from result_file import check_result, write_result

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FPDM_SHARED_DATA", REPO.parent / "shared" / "data")) / "real"
CLASSES = ("upper_arm", "forearm", "hand", "torso", "neck", "head")
SETTINGS = {"off": RetargetConfig(min_relative_length=0.0, min_side_ratio=0.0), "on": RetargetConfig()}


def self_reference(pose: PoseSequence, config: RetargetConfig) -> dict:
    """Class ratios over the shoulder ratio with each frame of ``pose`` as the reference of the whole of it."""
    rows, flagged = [], collections.Counter()
    for t in range(pose.num_frames):
        if not (pose.confidence[t, [11, 12]] > 0).all():  # both shoulders
            continue
        _, report = retarget_with_report(pose, pose.frames(t, t + 1), config)
        rows.append([report.ratios[c] / report.ratios["shoulder"] for c in CLASSES])
        flagged.update(report.foreshortened)
    r = np.array(rows)  # (n, classes)
    per_class = {c: {"mean_abs_error": round(float(np.mean(np.abs(r[:, i] - 1))), 3),
                     "min": round(float(r[:, i].min()), 2), "max": round(float(r[:, i].max()), 2),
                     "share_off_by_10pct": round(float(np.mean(np.abs(r[:, i] - 1) > 0.1)), 3)}
                 for i, c in enumerate(CLASSES)}  # fmt: skip
    return {"reference_frames": len(rows), "classes": per_class, "foreshortened_frames": dict(flagged)}


def photo(video_pose: PoseSequence, signer: Path) -> dict:
    """The reference photo onto the video's poses as the transfer fits it: ratios and notes, off and on."""
    fitted = load_signer(signer, video_pose.width, video_pose.height)
    out = {}
    for name, config in SETTINGS.items():
        if name == "on":
            _, fixes = prepare_poses(video_pose, fitted.pose)  # what the transfer runs
            ratios, notes = fixes.retarget_ratios, fixes.retarget_fallbacks
        else:
            _, report = retarget_with_report(prepare_poses(video_pose, None)[0], fitted.pose, config)
            ratios, notes = report.ratios, report.fallbacks
        out[name] = {"ratios": {k: round(v, 3) for k, v in ratios.items()}, "fallbacks": notes}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--poses", type=Path, nargs="+", default=[DATA / "example.pose", DATA / "mediapipe.pose"],
                        help=".pose files whose frames serve as their own references")  # fmt: skip
    parser.add_argument("--video", type=Path, default=DATA / "test_video.mp4", help="real video (poses extracted)")
    parser.add_argument("--signer", type=Path, default=DATA / "fake_human.png", help="reference photo")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "retarget_foreshortening.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(name)s: %(message)s")  # the per-frame warnings are the subject
    inputs = {"--video": args.video, "--signer": args.signer, **{f"--poses {p}": p for p in args.poses}}
    for option, path in inputs.items():
        if not path.is_file():
            parser.error(f"{option.split()[0]} {path} not found; pass it or set FPDM_SHARED_DATA")
    check_result(args.out, inputs)
    video = extract_poses(args.video, progress=False)
    sequences = {p.name: load_holistic(p) for p in args.poses} | {args.video.name: video}
    record = {
        "benchmark": "retarget_foreshortening",
        "self_reference": {name: {s: self_reference(pose, config) for s, config in SETTINGS.items()}
                           for name, pose in sequences.items()},  # fmt: skip
        "photo": {"video": args.video.name, "signer": args.signer.name, **photo(video, args.signer)},
        "git_commit": git_commit(), "versions": package_versions(),
    }
    write_result(args.out, record)
    json.dump(record, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
