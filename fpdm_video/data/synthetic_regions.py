"""Regions of a synthetic signer's frames: where the clothing is, for measures that look inside it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fpdm_video.data.synthetic_draw import render_signer
from fpdm_video.data.synthetic_identity import SignerIdentity
from fpdm_video.pose import PoseSequence

MARK = (255, 0, 255)  # the clothing's colour in the marker drawing
OTHER = (0, 255, 0)  # every other colour of the marker drawing (skin, hair, background), unlike MARK


def clothing_masks(identity: SignerIdentity, posed: PoseSequence, size: int | tuple[int, int], frames: list[int]) -> np.ndarray:
    """(T, H, W) bool: the pixels of ``frames`` of ``posed`` (already in the identity's proportions) covered by clothing.

    The signer is drawn again with the shirt and sleeves in one marker colour and no pattern; the mask
    is where that colour is drawn exactly (outlines and anti-aliased edges are left out).
    """
    marker = replace(identity, clothing_colour=MARK, clothing_pattern="solid", skin=OTHER, hair_colour=OTHER,
                     background_top=OTHER, background_bottom=OTHER)  # fmt: skip
    return np.stack([(render_signer(marker, posed, i, size) == np.asarray(MARK, dtype=np.uint8)).all(axis=-1) for i in frames])
