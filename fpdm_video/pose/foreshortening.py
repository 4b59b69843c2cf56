"""Foreshortened bones of a one-frame reference pose, found from their 2D lengths.

A photo shows a bone at ``cos(theta)`` of its length when it is turned ``theta`` out of the image
plane (a forearm pointing at the camera is a stub). One photo cannot tell such a bone from a short
one, so retargeting would shrink the target skeleton. Foreshortening only ever shortens, so a bone
is taken as foreshortened when it is much *shorter* than it should be by one of two rules:

1. **Against the driving signer's proportions.** The bone's ratio (reference length / driving
   length) divided by the shoulder ratio is its length relative to what the driving signer's own
   proportions give at the reference's size. Below ``min_relative_length`` (default 0.65, more than
   about 50 degrees out of the plane) it is foreshortened. Between adults these proportions differ
   by a few percent, MediaPipe's error on a photo adds a few more, and a webcam's perspective makes
   the driving signer's hands look large (the real reference photo's hands are 0.71 of the real
   test video's proportion), all above the threshold. The driving lengths are the 90th percentile
   over frames, so the driving side is seldom foreshortened itself.
2. **Against the mirrored bone.** A person's left and right bones have the same length. Where the
   reference shows both sides (the same bones of each), the shorter one is foreshortened when its
   2D length is below ``min_side_ratio`` (default 0.8, about 37 degrees further out of the plane)
   of the other's.

The shoulder width is the anchor of rule 1 and is not judged itself (a reference turned sideways is
not detected). MediaPipe's body ``z`` is not used: it is a depth in the units of x, relative to the
hips, that the model estimates with less accuracy than x and y; on the real reference photo, whose
forearms point at the camera, it gives forearms of 2.0k and 2.5k px in 3D against upper arms of
1.2k px (2D: 0.34k and 0.23k against 0.77k and 0.79k), so its size cannot stand in for a length.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_RELATIVE_LENGTH = 0.65  # rule 1: below this fraction of the length the driving's proportions give
MIN_SIDE_RATIO = 0.8  # rule 2: below this fraction of the mirrored bone's 2D length


@dataclass(frozen=True)
class SideLengths:
    """One side of a bone class: summed nominal 2D lengths, in pixels, of the bones both poses show."""

    reference: float
    driving: float
    bones: int = 1  # how many bones the sums hold (rule 2 compares sides of equal counts only)


def foreshortened_sides(sides: dict[str, SideLengths], shoulder_ratio: float,
                        min_relative_length: float = MIN_RELATIVE_LENGTH,
                        min_side_ratio: float = MIN_SIDE_RATIO) -> dict[str, str]:  # fmt: skip
    """The sides of one bone class that look foreshortened in the reference, each with its reason in words.

    ``sides`` maps "left" and "right" (or "" for a class on the body's midline) to their lengths;
    ``shoulder_ratio`` is the reference's shoulder width over the driving's. A limit of 0 turns its
    rule off.
    """
    out: dict[str, str] = {}
    for side, m in sides.items():
        relative = m.reference / (m.driving * shoulder_ratio)
        if relative < min_relative_length:
            out[side] = f"{relative:.2f} of the driving signer's proportion, below {min_relative_length}"
    if len(sides) == 2:
        (short, s), (long, g) = sorted(sides.items(), key=lambda kv: kv[1].reference)
        if short not in out and s.bones == g.bones and s.reference < min_side_ratio * g.reference:
            out[short] = f"{s.reference / g.reference:.2f} of the {long} side's length, below {min_side_ratio}"
    return out
