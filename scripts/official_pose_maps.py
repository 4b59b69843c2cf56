"""Measure this project's official-style pose maps against the official drawing code (dhlee-work/FPDM).

Nothing of the official code is in this project: the ``official`` step imports it from a checkout
given as an argument, in the official virtual environment (``scripts/official_equality.py make-venv``).

    .venv/bin/python scripts/official_pose_maps.py keypoints --pose P.pose --official OFFICIAL --work W
    V/bin/python scripts/official_pose_maps.py official --official OFFICIAL --work W
    .venv/bin/python scripts/official_pose_maps.py compare --work W --out benchmarks/results/official_pose_maps.json

``keypoints`` writes the cases as keypoint text files in the official formats: the official
repository's DeepFashion sample keypoints (OpenPose-18, read and scaled by its own
``trans_keypoins`` later) and, from every ``--stride``-th frame of a holistic ``.pose`` file, this
project's OpenPose-18 and COCO-WholeBody-133 keypoints on the drawing canvas (missing points as the
official code marks them: -1 for OpenPose, 0 for WholeBody).
``official`` draws each with ``ProcessingKeypoints.draw_img`` / ``ProcessingSignKeypoints.get_label_tensor``
and saves the maps losslessly with the keypoints it drew from. ``compare`` draws the same keypoints
with :func:`fpdm_video.pose.render_official.draw_keypoints` and counts the differing bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

OPENPOSE_DRAW = (375, 550)  # the official DeepFashion pose canvas (W, H)
DEEPFASHION_PARAM = {"offset": 40, "stickwidth": 4, "anno_width": 176, "anno_height": 256}
SIGN_DRAW = (512, 512)
SIGN_STICK = 2


def write_keypoints(pose_path: Path, official: Path, work: Path, stride: int) -> None:
    from fpdm_video.geometry import CanvasFit
    from fpdm_video.pose import load_holistic
    from fpdm_video.pose.keypoint_sets import OPENPOSE18_TABLE, WHOLEBODY133_TABLE, select_points

    cases = work / "cases"
    cases.mkdir(parents=True, exist_ok=True)
    for txt in sorted((official / "dataset/deepfashion_samples/pose").rglob("*.txt")):
        (cases / f"deepfashion-{txt.parent.name}-{txt.stem}.op18.txt").write_text(txt.read_text())
    pose = load_holistic(pose_path).to_holistic().to_pixels()
    for style, table, draw, missing in (("op18", OPENPOSE18_TABLE, OPENPOSE_DRAW, -1.0), ("wb133", WHOLEBODY133_TABLE, SIGN_DRAW, 0.0)):
        fit = CanvasFit.of(pose.width, pose.height, draw)
        for t in range(0, pose.num_frames, stride):
            points, shown = select_points(fit.points_to_canvas(pose.points[t, :, :2]) - 0.5, pose.confidence[t] >= 0.3, table)
            points[~shown] = missing
            np.savetxt(cases / f"pose-{t:04d}.{style}.txt", points)
    print(f"wrote {len(list(cases.glob('*.txt')))} keypoint files to {cases}")


def draw_official(official: Path, work: Path) -> None:

    sys.path.insert(0, str(official))
    from src.fusion.datautil import ProcessingKeypoints, ProcessingSignKeypoints

    out = work / "official"
    out.mkdir(parents=True, exist_ok=True)
    for txt in sorted((work / "cases").glob("*.txt")):
        keypoints = np.loadtxt(txt)
        if txt.name.startswith("deepfashion-"):  # the official dataset's path: trans_keypoins, then draw_img at 375 x 550
            keypoints = ProcessingKeypoints().trans_keypoins(keypoints, [OPENPOSE_DRAW[1], OPENPOSE_DRAW[0]], DEEPFASHION_PARAM)
        if ".op18." in txt.name:
            param = dict(DEEPFASHION_PARAM)
            image = ProcessingKeypoints().draw_img(keypoints.copy(), [OPENPOSE_DRAW[1], OPENPOSE_DRAW[0]], param)
        else:  # get_label_tensor reads the file; an identity transform (no offset, annotation size = canvas)
            param = {"offset": 0, "stickwidth": SIGN_STICK, "anno_width": SIGN_DRAW[0], "anno_height": SIGN_DRAW[1]}
            blank = np.zeros((SIGN_DRAW[1], SIGN_DRAW[0], 3), np.uint8)
            image = ProcessingSignKeypoints().get_label_tensor(str(txt), blank, param)
            keypoints[keypoints == 0] = -1
        image.save(out / f"{txt.stem}.png")
        np.save(out / f"{txt.stem}.npy", keypoints)
    print(f"drew {len(list(out.glob('*.png')))} official pose maps in {out}")


def compare(work: Path, out: Path | None) -> dict:
    from PIL import Image

    from fpdm_video.pose.render_official import draw_keypoints

    rows = []
    for png in sorted((work / "official").glob("*.png")):
        theirs = np.asarray(Image.open(png).convert("RGB"))
        keypoints = np.load(png.with_suffix(".npy"))
        style = "openpose18" if ".op18" in png.name else "wholebody133"
        shown = (keypoints[:, 0] != -1) & (keypoints[:, 1] != -1)
        draw = OPENPOSE_DRAW if style == "openpose18" else SIGN_DRAW
        stick = DEEPFASHION_PARAM["stickwidth"] if style == "openpose18" else SIGN_STICK
        ours = draw_keypoints(keypoints, shown, draw, style, stick)
        diff = np.abs(ours.astype(int) - theirs.astype(int))
        rows.append({"case": png.stem, "style": style, "points_drawn": int(shown.sum()), "lit_pixels": int((theirs > 0).any(-1).sum()),
                     "bytes_differing": int((diff > 0).sum()), "max_abs_difference": int(diff.max())})  # fmt: skip
    result = {"what": "official-style pose maps: this project's draw_keypoints against the official drawing code on the same keypoints",
              "cases": len(rows), "cases_identical": sum(r["bytes_differing"] == 0 for r in rows), "rows": rows}  # fmt: skip
    text = json.dumps(result, indent=2)
    if out:
        out.write_text(text + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    k = sub.add_parser("keypoints", help="this project's environment: the cases as keypoint files")
    k.add_argument("--pose", type=Path, required=True, help="a holistic .pose file")
    k.add_argument("--official", type=Path, required=True, help="a checkout of dhlee-work/FPDM (its sample keypoints)")
    k.add_argument("--work", type=Path, required=True)
    k.add_argument("--stride", type=int, default=8)
    o = sub.add_parser("official", help="the official environment: draw the cases with the official code")
    o.add_argument("--official", type=Path, required=True)
    o.add_argument("--work", type=Path, required=True)
    c = sub.add_parser("compare", help="this project's environment: draw the same keypoints, compare")
    c.add_argument("--work", type=Path, required=True)
    c.add_argument("--out", type=Path)
    args = p.parse_args()
    if args.command == "keypoints":
        write_keypoints(args.pose, args.official.resolve(), args.work.resolve(), args.stride)
    elif args.command == "official":
        draw_official(args.official.resolve(), args.work.resolve())
    else:
        compare(args.work.resolve(), args.out)


if __name__ == "__main__":
    main()
