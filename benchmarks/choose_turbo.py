"""Turbo's steps, scale and eta by the rule written in docs/speed.md, from ``preset_quality.py``'s results on one seed.

The candidates are the entries named ``turbo_s<STEPS>_g<SCALE>``, optionally ``_e<ETA>`` after
(``preset_quality.py --methods turbo --turbo-steps S --turbo-guidance G --turbo-eta E --label
_sS_gG_eE``; the eta a candidate ran with is read from its settings); ``paper`` on the same seed is
the reference. With ``--max-steps N``, candidates of more steps are left out (the rule's speed
floor: 4 steps of the demo student sample at 13.5x the paper sampler, below the 15x the student
must keep).
A candidate qualifies when its mean sharpness ratio is at least 0.9 times paper's and its mean
flicker ratio at most paper's plus the 95 % half-interval of paper's mean; of those the highest
mean PSNR wins, and candidates within 0.05 dB of it go to the fewest steps. If none qualifies, the
sharpest of the candidates within 0.3 dB of the best PSNR is taken, and the miss is printed.

    python benchmarks/choose_turbo.py --seed 2
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "preset_quality_demo_cpu.json"
CANDIDATE = re.compile(r"^turbo_s(\d+)_g([\d.]+)(_e[\d.]+)?$")


def choose(entries: dict, max_steps: int | None = None) -> tuple[str, bool, list[dict]]:
    """(the chosen entry's name, whether it qualified, a row per candidate); candidates of more than ``max_steps`` are out."""
    paper = entries["paper"]["summary"]
    rows = []
    for name, entry in entries.items():
        match = CANDIDATE.match(name)
        if not match or (max_steps is not None and int(match[1]) > max_steps):
            continue
        s = entry["summary"]
        qualifies = (s["sharpness"]["mean"] >= 0.9 * paper["sharpness"]["mean"]
                     and s["flicker"]["mean"] <= paper["flicker"]["mean"] + paper["flicker"]["ci95"])  # fmt: skip
        eta = entry.get("settings", {}).get("eta")
        rows.append({"name": name, "steps": int(match[1]), "guidance": float(match[2]), "eta": eta, "psnr": s["psnr"]["mean"],
                     "ssim_fpdm": s["ssim_fpdm"]["mean"], "sharpness": s["sharpness"]["mean"], "flicker": s["flicker"]["mean"],
                     "qualifies": qualifies})  # fmt: skip
    if not rows:
        raise SystemExit("error: no turbo_s<STEPS>_g<SCALE>[_e<ETA>] entries on this seed; run preset_quality.py with --label first")
    pool = [r for r in rows if r["qualifies"]]
    if pool:
        best = max(r["psnr"] for r in pool)
        near = [r for r in pool if r["psnr"] >= best - 0.05]
        chosen = min(near, key=lambda r: (r["steps"], -r["psnr"]))
    else:
        best = max(r["psnr"] for r in rows)
        chosen = max((r for r in rows if r["psnr"] >= best - 0.3), key=lambda r: r["sharpness"])
    return chosen["name"], bool(pool), rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--max-steps", type=int, help="leave out candidates of more steps (those below the speed floor, "
                   "15x the paper sampler: docs/speed.md)")
    args = p.parse_args(argv)
    entries = json.loads(args.results.read_text())["seeds"][str(args.seed)]
    name, qualified, rows = choose(entries, args.max_steps)
    paper = entries["paper"]["summary"]
    print(f"paper: PSNR {paper['psnr']['mean']:.3f}, sharpness {paper['sharpness']['mean']:.3f}, flicker {paper['flicker']['mean']:.3f}"
          f" (+{paper['flicker']['ci95']:.3f})")  # fmt: skip
    print("| candidate | PSNR | SSIM (FPDM's) | sharpness | flicker | qualifies |\n| --- | --- | --- | --- | --- | --- |")
    for r in sorted(rows, key=lambda r: (r["steps"], r["guidance"], -(r["eta"] if r["eta"] is not None else 1.0))):
        eta = "" if r["eta"] is None else f", eta {r['eta']}"
        print(f"| {r['steps']} steps, g {r['guidance']}{eta} | {r['psnr']:.3f} | {r['ssim_fpdm']:.4f} | {r['sharpness']:.3f} | "
              f"{r['flicker']:.3f} | {'yes' if r['qualifies'] else 'no'} |")  # fmt: skip
    print(f"chosen: {name}" + ("" if qualified else " (no candidate qualified: the rule's fallback)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
