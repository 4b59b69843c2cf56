"""The rule that picks turbo's steps and scale (benchmarks/choose_turbo.py, written down in docs/speed.md)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from choose_turbo import choose  # noqa: E402


def _entry(psnr: float, sharpness: float, flicker: float, flicker_ci: float = 0.02) -> dict:
    return {"summary": {"psnr": {"mean": psnr}, "ssim_fpdm": {"mean": 0.8}, "sharpness": {"mean": sharpness},
                        "flicker": {"mean": flicker, "ci95": flicker_ci}}}  # fmt: skip


def test_a_blurry_candidate_does_not_win_on_psnr_and_ties_go_to_fewer_steps():
    entries = {"paper": _entry(20.0, 1.0, 1.0), "fast": _entry(30.0, 1.0, 1.0),  # not a candidate: ignored
               "turbo_s1_g2.0": _entry(21.0, 0.5, 1.0),  # higher PSNR, but blurred: out
               "turbo_s4_g2.0": _entry(20.04, 0.95, 1.0), "turbo_s2_g2.0": _entry(20.0, 0.92, 1.01),  # within 0.05 dB
               "turbo_s2_g3.0": _entry(20.5, 1.0, 1.2)}  # flickers more than paper's interval allows: out  # fmt: skip
    name, qualified, rows = choose(entries)
    assert name == "turbo_s2_g2.0" and qualified and len(rows) == 4


def test_without_a_qualifier_the_sharpest_near_the_best_psnr_is_taken_and_the_miss_said():
    entries = {"paper": _entry(20.0, 1.0, 1.0), "turbo_s4_g2.0": _entry(20.0, 0.6, 1.0), "turbo_s2_g2.0": _entry(19.8, 0.7, 1.0),
               "turbo_s1_g2.0": _entry(19.0, 0.8, 1.0)}  # fmt: skip
    name, qualified, _ = choose(entries)
    assert name == "turbo_s2_g2.0" and not qualified


def test_eta_candidates_are_read_from_their_settings_and_max_steps_leaves_the_slow_ones_out():
    def entry(psnr, sharpness, eta):
        e = _entry(psnr, sharpness, 1.0)
        e["settings"] = {"eta": eta}
        return e

    entries = {"paper": _entry(20.0, 1.0, 1.0), "turbo_s2_g2.0_e1.0": entry(20.0, 0.8, 1.0),
               "turbo_s2_g2.0_e0.5": entry(19.9, 0.85, 0.5),  # sharper, within 0.3 dB: the fallback's pick
               "turbo_s4_g2.0_e0.0": entry(19.5, 0.95, 0.0)}  # qualifies, but has more steps than allowed  # fmt: skip
    name, qualified, rows = choose(entries)
    assert name == "turbo_s4_g2.0_e0.0" and qualified and {r["eta"] for r in rows} == {1.0, 0.5, 0.0}
    name, qualified, rows = choose(entries, max_steps=2)
    assert name == "turbo_s2_g2.0_e0.5" and not qualified and len(rows) == 2
