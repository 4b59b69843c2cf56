"""A still strip of a few frames of two or more output videos, one row each, and |first - second| x GAIN below.

Used for the docs' comparison images (docs/images), so that a reader sees what a setting changes:

    python scripts/comparison_strip.py fixed.mp4 fused.mp4 --frames 0 3 6 9 11 --out docs/images/strip.jpg
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from fpdm_video.atomic import atomic_path
from fpdm_video.errors import InputError
from fpdm_video.video.reader import read_video


IMAGE_TYPES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}  # what --out may be, and Pillow's name for it


def strip(videos: list[np.ndarray], frames: list[int], gain: float) -> np.ndarray:
    """(H', W', 3) uint8: one row per video (T, H, W, 3), the chosen frames side by side, then the gained difference row."""
    rows = [np.concatenate([v[f] for f in frames], axis=1) for v in videos]
    difference = np.abs(rows[0].astype(np.float32) - rows[1].astype(np.float32)) * gain
    return np.concatenate([*rows, difference.clip(0, 255).astype(np.uint8)], axis=0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("videos", nargs="+", type=Path, help="two or more videos of the same size and length")
    p.add_argument("--frames", nargs="+", type=int, required=True, help="frame indices to show")
    p.add_argument("--gain", type=float, default=4.0, help="the difference row's gain (default 4)")
    p.add_argument("--frame-height", type=int, help="scale every frame to this height (default: as they are)")
    p.add_argument("--out", type=Path, required=True, help="the image to write (.jpg or .png)")
    args = p.parse_args(argv)
    try:
        if len(args.videos) < 2:
            raise InputError("give at least two videos to compare")
        if args.out.suffix.lower() not in IMAGE_TYPES:
            raise InputError(f"--out must end in {', '.join(IMAGE_TYPES)}, got {args.out.name}")
        if any(args.out.resolve() == path.resolve() for path in args.videos):
            raise InputError(f"--out {args.out} is one of the videos; give the strip its own path")
        videos = [read_video(path).frames for path in args.videos]
        if len({v.shape[1:] for v in videos}) != 1:
            raise InputError(f"the videos differ in size: {', '.join(f'{v.shape[2]}x{v.shape[1]}' for v in videos)}")
        shortest = min(len(v) for v in videos)
        if any(not 0 <= f < shortest for f in args.frames):
            raise InputError(f"frames must lie in 0 .. {shortest - 1} (the shortest video's), got {args.frames}")
        image = Image.fromarray(strip(videos, args.frames, args.gain))
        if args.frame_height:
            scale = args.frame_height / videos[0].shape[1]
            image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
        with atomic_path(args.out) as tmp:  # a run killed halfway leaves no half-written strip
            image.save(tmp, format=IMAGE_TYPES[args.out.suffix.lower()], quality=90)
    except (InputError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
