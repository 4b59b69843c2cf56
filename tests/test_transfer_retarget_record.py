"""A foreshortened reference photo: the transfer's poses keep the driving proportions, and the run record says why."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

import pytest

from factories_pose_motion import foreshortened_forearms, scaled, smooth_track
from pipelines.transfer.record import pose_fix_fields
from pipelines.transfer.stages import prepare_poses


def test_record_names_the_foreshortened_bones(caplog):
    truth = smooth_track(t=24, size=512)
    driving = scaled(truth, 1.3, (0.0, 0.0), 800, 800)
    with caplog.at_level(logging.WARNING):
        _, fixes = prepare_poses(driving, foreshortened_forearms(truth, ("LEFT", "RIGHT")))
    record = pose_fix_fields(fixes, retarget=True)["retarget"]
    assert record["on"] is True
    assert record["ratios"]["forearm"] == pytest.approx(record["ratios"]["shoulder"], rel=1e-3)
    (note,) = record["fallbacks"]
    assert note.startswith("forearm: foreshortened in the reference (left 0.30 of the driving signer's proportion")
    assert "right 0.30" in note and note.endswith("scaled by the shoulder ratio, the driving signer's own proportion")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "foreshortened" in r.getMessage()]
    assert len(warnings) == 1 and "\n" not in warnings[0].getMessage()  # one line for the CLI user
    # the flow keeps the same facts as JSON between its tasks; its record says the same
    assert pose_fix_fields(json.loads(json.dumps(asdict(fixes))), retarget=True)["retarget"] == record
