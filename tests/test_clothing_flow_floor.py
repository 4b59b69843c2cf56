"""The sticking index of benchmarks/clothing_flow_floor.py: low for a pattern that moves with the clothing, 1 for one left on the screen."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from clothing_flow_floor import STICKING_GAP, drawn_pairs, sticking, texture  # noqa: E402
from pipelines.synthetic_eval import HeldOutConfig, make_cases  # noqa: E402


def test_the_sticking_index_tells_a_moving_pattern_from_a_stuck_one():
    (case,) = make_cases(HeldOutConfig(seed=2, cases=1, frames=12, stride=2), 128)
    assert case.pattern == "stripes"
    far = drawn_pairs(case, STICKING_GAP, landed=True)
    assert sum(m.sum() for _, _, m in far) > 300  # clothing pixels judged over the three pairs
    moving = sticking(case.truth, far)
    stuck = sticking(np.repeat(case.truth[:1], len(case.truth), axis=0), far)  # the first frame's pattern never moves
    assert moving < 0.3 and stuck == 1.0, (moving, stuck)
    flat = np.full_like(case.truth, 128)
    assert np.isnan(sticking(flat, far))  # no pattern: nothing to tell
    assert texture(flat, case.clothing) == 0.0 and texture(case.truth, case.clothing) > 10
    assert len(drawn_pairs(case)) == len(case.truth) - 1


def test_the_strip_puts_frames_0_and_3_of_each_row_side_by_side(tmp_path):
    from PIL import Image

    from clothing_flow_floor import write_strip

    rows = {name: np.full((6, 8, 4, 3), value, np.uint8) for name, value in (("truth", 0), ("a", 100), ("b", 200))}
    rows["truth"][3] = 255
    write_strip(tmp_path / "strip.png", rows)
    picture = np.asarray(Image.open(tmp_path / "strip.png"))
    assert picture.shape == (3 * 8 * 2, 2 * 4 * 2, 3)
    assert picture[0, 0, 0] == 0 and picture[0, -1, 0] == 255 and picture[-1, 0, 0] == 200  # truth's frame 3 on the right
    assert [p.name for p in tmp_path.iterdir()] == ["strip.png"]
