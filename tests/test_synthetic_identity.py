"""Identities: deterministic per seed, varied across seeds, parameters in range, bad seeds refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fpdm_video.data.synthetic_identity import (
    BACKGROUNDS,
    HAIR_STYLES,
    MIN_SKIN_CONTRAST,
    PATTERNS,
    PROPORTION_RANGES,
    SKIN_TONES,
    sample_identity,
)
from fpdm_video.errors import InputError


def test_same_seed_same_identity():
    assert sample_identity(7) == sample_identity(7)
    assert sample_identity(7).id == "synth-0007"


def test_seeds_give_varied_identities():
    identities = [sample_identity(s) for s in range(60)]
    assert len({dataclasses.astuple(i)[2:] for i in identities}) == 60
    assert {i.hair_style for i in identities} == set(HAIR_STYLES)
    assert {i.clothing_pattern for i in identities} == set(PATTERNS)
    assert {i.background for i in identities} == set(BACKGROUNDS)
    assert len({i.skin for i in identities}) >= 5


def test_parameters_in_range_and_skin_stands_out():
    for seed in range(100):
        ident = sample_identity(seed)
        assert ident.skin in SKIN_TONES
        for name, (lo, hi) in PROPORTION_RANGES.items():
            assert lo <= ident.proportions()[name] <= hi, (seed, name)
        for colour in (ident.clothing_colour, ident.background_top, ident.background_bottom):
            assert all(0 <= c <= 255 for c in colour)
            distance = np.linalg.norm(np.subtract(colour, ident.skin, dtype=float))
            assert distance >= MIN_SKIN_CONTRAST - 1e-9, (seed, colour, ident.skin)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, None])
def test_bad_seed_is_an_input_error(seed):
    with pytest.raises(InputError, match="non-negative integer"):
        sample_identity(seed)
