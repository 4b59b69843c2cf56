"""pipelines.synthetic_eval's temporal report (flicker and warping error of the output and of the ground truth, texture
sticking) on constructed outputs, and its --temporal-attention option."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pipelines.synthetic_eval import HeldOutConfig, main, make_cases, temporal_report


@pytest.fixture(scope="module")
def cases():
    return make_cases(HeldOutConfig(cases=2, frames=6, stride=1), 32)


def test_the_ground_truth_scores_as_its_own_floor_and_a_still_output_does_not(cases):
    truth = temporal_report([c.truth for c in cases], cases)
    assert truth["flicker"] == pytest.approx(truth["flicker_truth"]) and truth["warping_error"] == pytest.approx(truth["warping_error_truth"])
    assert truth["flow_epe"] == 0.0 and truth["flow_ratio"] == pytest.approx(1.0)
    still = temporal_report([np.repeat(c.truth[:1], len(c.truth), axis=0) for c in cases], cases)
    assert still["flicker"] == 0.0 and still["flow_ratio"] < 0.05 and still["flow_epe"] > 0.05
    assert all(c.clothing is not None and c.clothing.shape == c.truth.shape[:3] and c.clothing.any() for c in cases)


def test_a_bad_mode_is_refused_by_argparse_before_any_work(tmp_path, capsys):
    # the transfer CLI's sampling options, choices included: argparse's own error (exit 2, one error line after its usage)
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as exit_info:
        main(["--checkpoint", str(tmp_path), "--out", str(out), "--temporal-attention", "sideways"])
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error:" in line]
    assert exit_info.value.code == 2 and len(errors) == 1 and errors[0] == err[-1], err
    # the choices' quoting differs between Python versions ('off', ... or off, ...)
    assert re.fullmatch(r"python -m pipelines\.synthetic_eval: error: argument --temporal-attention: invalid choice: 'sideways' "
                        r"\(choose from '?off'?, '?first'?, '?previous'?, '?both'?\)", errors[0]), err  # fmt: skip
    assert not out.exists() and list(tmp_path.iterdir()) == []
