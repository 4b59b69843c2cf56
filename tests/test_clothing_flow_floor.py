"""The sticking index of benchmarks/clothing_flow_floor.py: low for a pattern that moves with the clothing, 1 for one left on the screen."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from clothing_flow_floor import drawn_pairs, far_pairs, sticking, texture  # noqa: E402
from pipelines.synthetic_eval import HeldOutConfig, make_cases  # noqa: E402


def test_the_sticking_index_tells_a_moving_pattern_from_a_stuck_one():
    (case,) = make_cases(HeldOutConfig(seed=2, cases=1, frames=12, stride=2), 128)
    assert case.pattern == "stripes"
    far = far_pairs(case)
    assert sum(m.sum() for _, _, m in far) > 300  # clothing pixels judged over the three pairs
    moving = sticking(case.truth, far)
    stuck = sticking(np.repeat(case.truth[:1], len(case.truth), axis=0), far)  # the first frame's pattern never moves
    assert moving < 0.3 and stuck == 1.0, (moving, stuck)
    flat = np.full_like(case.truth, 128)
    assert np.isnan(sticking(flat, far))  # no pattern: nothing to tell
    assert texture(flat, case.clothing) == 0.0 and texture(case.truth, case.clothing) > 10
    assert len(drawn_pairs(case)) == len(case.truth) - 1
