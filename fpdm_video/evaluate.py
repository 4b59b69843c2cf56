"""``python -m fpdm_video.evaluate``: is this output good? Metrics of a generated video or dataset.

Two forms:

    python -m fpdm_video.evaluate --output OUT.mp4 --driving IN.mp4 --signer REF.png --json REPORT.json
    python -m fpdm_video.evaluate --dataset GEN_ROOT --ground-truth GT_ROOT [--split test] --json REPORT.json

Both print a short table and write the full report as JSON; ``--plots DIR`` adds per-frame metric
curves as PNG. Face identity comes from dlib's pretrained face descriptor, beside the stage-1
similarity (the model's own view). LPIPS and FID are computed only from local weights files
(``--lpips-weights``, ``--fid-weights``); nothing is downloaded. See docs/evaluation.md for each metric.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from fpdm_video.cli import run_guarded
from fpdm_video.native_logs import quiet_native_logs

logger = logging.getLogger("fpdm_video.evaluate")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m fpdm_video.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--output", type=Path, help="a generated video (with --driving and --signer)")
    p.add_argument("--driving", type=Path, help="the video that drove it")
    p.add_argument("--signer", type=Path, help="the reference photo it was made with (dataset form: optional, the photo every clip "
                                               "was made with, for the face identity)")
    p.add_argument("--driving-poses", type=Path, help="poses of the driving video (.pose) instead of extracting them")
    p.add_argument("--driving-range", help="START:END, the driving frames the output was made from (default: the "
                                           "frame range in the output's record OUTPUT.json, else the whole video)")
    p.add_argument("--no-retarget", action="store_true", help="the output was made with --no-retarget")
    p.add_argument("--ground-truth", type=Path, help="ground-truth video (with --output), or ground-truth dataset root (with --dataset)")
    p.add_argument("--dataset", type=Path, help="a generated dataset root in the PHOENIX-2014T layout")
    p.add_argument("--split", default="test", help="dataset split to compare (default test)")
    p.add_argument("--pose-fidelity", action="store_true", help="dataset form: also compare re-extracted poses with the ground truth's sidecars (slow)")
    p.add_argument("--checkpoint", type=Path, help="checkpoint whose encoder embeds frames for the stage-1 identity metric (default: "
                                                   "the embedded demo model)")
    p.add_argument("--lpips-weights", type=Path, help="torchvision weights file of LPIPS's backbone (e.g. alexnet-owt-7be5be79.pth); "
                                                      "without it LPIPS is not computed")
    p.add_argument("--lpips-net", choices=("alex", "vgg", "squeeze"), default="alex",
                   help="the backbone that --lpips-weights holds (default alex, as the official FPDM evaluation)")
    p.add_argument("--fid-weights", type=Path, help="Inception v3 weights file for FID: pytorch-fid's pt_inception-2015-12-05-6726825d.pth "
                                                    "or torchvision's inception_v3_google-0cc3c7bd.pth; without it FID is not computed")
    p.add_argument("--json", type=Path, help="write the full report here")
    p.add_argument("--plots", type=Path, help="write per-frame metric curves (PNG) into this folder")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _mean(section: dict, key: str) -> str:
    v = (section or {}).get(key)
    return f"{v['mean']:.3f}" if isinstance(v, dict) and isinstance(v.get("mean"), float) and v["mean"] == v["mean"] else "-"


def _identity_rows(identity: dict) -> list[tuple[str, object]]:
    """Face identity (dlib) and the stage-1 similarity (the model's own view) side by side."""
    face, stage1 = identity.get("face") or {}, identity.get("stage1") or {}
    rows: list[tuple[str, object]] = []
    pairs = [("reference", "to_reference"), ("driving signer", "to_driving_signer"), ("ground truth", "to_ground_truth")]
    for label, key in pairs:
        if key in face or key in stage1:
            rows.append((f"identity to {label}: face distance (<0.6 same) / stage-1 similarity (model's own view)",
                         f"{_mean(face, key)} / {_mean(stage1, key)}"))  # fmt: skip
    if "detection_rate" in face:
        rates = ", ".join(f"{k} {v:.2f}" for k, v in face["detection_rate"].items())
        rows.append(("identity.face detection rate", rates))
        shares = ", ".join(f"{k} {v:.2f}" for k, v in face["share_under_threshold"].items())
        rows.append(("identity.face share of frames under 0.6", shares))
    for name, section in (("face", face), ("stage1", stage1)):
        if section.get("status") == "unavailable":
            rows.append((f"identity.{name}", f"not computed: {section['reason']}"))
    return rows


def _rows(report: dict) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    if "driving_range" in report:
        span = report["driving_range"]
        rows.append(("driving frames", f"{span['start']}:{span['end']} ({span['from']})"))
    for section in ("image", "temporal", "overall"):
        for key, value in (report.get(section) or {}).items():
            if isinstance(value, dict) and "mean" in value:
                rows.append((f"{section}.{key} (mean)", value["mean"]))
    rows += _identity_rows(report.get("identity") or {})
    lpips, fid = report.get("lpips") or {}, report.get("fid") or {}
    if all(str(x.get("reason", "")).startswith("not computed: give") for x in (lpips, fid)):
        rows.append(("lpips, fid", "not computed: give --lpips-weights / --fid-weights"))
    else:
        if lpips.get("status") == "unavailable":  # otherwise its mean is among the image (or overall) rows
            rows.append(("lpips", lpips["reason"]))
        rows.append(("fid", fid.get("reason") or f"{fid['fid']:.4g} against {fid['against']} ({fid['generated_frames']} / "
                     f"{fid['real_frames']} frames)"))  # fmt: skip
    pose = report.get("pose_fidelity", {})
    for region, v in pose.get("regions", {}).items():
        rows.append((f"pose.{region} distance / PCK", f"{v['distance']:.3f} / {v['pck@0.1']:.3f}"))
    for hand, v in pose.get("missing_hand_fraction", {}).items():
        rows.append((f"pose.{hand} missing", v))
    return rows


def check_paths(args: argparse.Namespace, plot_names: list[str]):
    """Every file this run reads and writes, checked before any work (see fpdm_video.run_paths)."""
    from fpdm_video.models.checkpoint import checkpoint_files
    from fpdm_video.run_paths import check_run_paths

    inputs = {"--output": args.output, "--driving": args.driving, "--signer": args.signer, "--driving-poses": args.driving_poses,
              "--ground-truth": args.ground_truth, "--dataset": args.dataset, **checkpoint_files(args.checkpoint),
              "--lpips-weights": args.lpips_weights, "--fid-weights": args.fid_weights}  # fmt: skip
    if args.output is not None and args.output.with_suffix(".json").is_file():  # the output's record, read for its frame range
        inputs["--output's record"] = args.output.with_suffix(".json")
    plots = {} if args.plots is None else {f"--plots ({n}.png)": args.plots / f"{n}.png" for n in plot_names}
    return check_run_paths(inputs, {"--json": args.json, **plots})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def body() -> int:
        from fpdm_video.atomic import atomic_path
        from fpdm_video.errors import InputError
        from fpdm_video.strict_json import dumps
        from pipelines.evaluation.perceptual import PerceptualWeights, load_perceptual
        from pipelines.evaluation.plots import plot_series
        from pipelines.evaluation.summary import table

        weights = PerceptualWeights(lpips=args.lpips_weights, lpips_net=args.lpips_net, fid=args.fid_weights)

        if args.dataset is not None:
            if args.ground_truth is None:
                raise InputError("--dataset needs --ground-truth GT_ROOT")
            from pipelines.evaluation.dataset_eval import evaluate_dataset, matched_samples

            check_paths(args, plot_names=matched_samples(args.dataset, args.ground_truth, args.split)[2])
            report, series = evaluate_dataset(args.dataset, args.ground_truth, args.split, pose_fidelity=args.pose_fidelity,
                                              progress=not args.quiet, signer=args.signer, perceptual=load_perceptual(weights))  # fmt: skip
        else:
            missing = [n for n in ("output", "driving", "signer") if getattr(args, n) is None]
            if missing:
                raise InputError("give --output, --driving and --signer (or --dataset and --ground-truth); missing: "
                                 + ", ".join(f"--{m}" for m in missing))  # fmt: skip
            from pipelines.evaluation.alignment import parse_range
            from pipelines.evaluation.video_eval import evaluate_video, load_checkpoint

            frames = parse_range(args.driving_range) if args.driving_range is not None else None
            check_paths(args, plot_names=[args.output.stem])
            perceptual = load_perceptual(weights)  # a bad weights file ends the run here, before any work
            report, frame_series = evaluate_video(
                args.output, args.driving, args.signer, model=load_checkpoint(args.checkpoint),
                ground_truth=args.ground_truth, driving_poses_file=args.driving_poses,
                retarget=not args.no_retarget, progress=not args.quiet, frames=frames, perceptual=perceptual,
            )  # fmt: skip
            series = {args.output.stem: frame_series}
        print(table(_rows(report)))
        if args.plots is not None:
            for name, s in series.items():
                plot_series(s, args.plots / f"{name}.png", title=name)
        if args.json is not None:
            with atomic_path(args.json) as tmp:
                tmp.write_text(dumps(report))
        return 0

    with quiet_native_logs(args.quiet):  # MediaPipe's known chatter on fd 2 (fpdm_video.native_logs)
        return run_guarded(body)


if __name__ == "__main__":
    sys.exit(main())
