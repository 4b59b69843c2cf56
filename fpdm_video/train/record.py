"""The training record of a run: loss curves as a PNG and the facts of every stage as JSON.

``python -m fpdm_video.train.record --run runs/demo --out fpdm_video/weights/demo`` reads each
stage's ``log.csv`` and ``summary.json`` and writes ``loss_curves.png`` and ``training_record.json``
(config, steps, wall time and device per stage, and the stage evaluations) into ``--out``. With
``--export``, it also writes the final model there in fp16 (``config.yaml`` + ``model.safetensors``).

``--run`` may be given several times, in training order, for a model whose later phases ran in run
folders of their own (a stage continued from an earlier run's model with ``init``): every stage of
every run is recorded, and the exported model is the last stage of the last run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from fpdm_video.atomic import atomic_path
from fpdm_video.config import to_dict
from fpdm_video.errors import InputError
from fpdm_video.train.config import STAGES
from fpdm_video.train.csv_log import read_log

logger = logging.getLogger(__name__)

CURVES = {"vae": ("loss", "psnr"), "fusion": ("loss", "top1"), "diffusion": ("loss", None), "distill": ("loss", "data"),
          "tiny_decoder": ("loss", "mse")}


def smooth(values: list[float], window: int = 10) -> np.ndarray:
    """Trailing moving average (the first points average what there is)."""
    v = np.asarray(values, dtype=np.float64)
    c = np.cumsum(np.insert(v, 0, 0.0))
    n = np.minimum(np.arange(1, len(v) + 1), window)
    return (c[1:] - c[np.arange(1, len(v) + 1) - n]) / n


def logged_stages(runs: list[Path]) -> list[tuple[Path, str]]:
    """(run, stage) of every stage with a log, runs in the order given and stages in training order."""
    return [(run, s) for run in runs for s in STAGES if (run / s / "log.csv").is_file()]


def plot_curves(runs: list[Path], path: Path) -> list[str]:
    """One panel per logged stage of every run; returns the panel titles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = logged_stages(runs)
    titles = [stage if len(runs) == 1 else f"{stage} ({run.name})" for run, stage in panels]
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(4.2 * max(1, len(panels)), 3.2), squeeze=False)
    for ax, (run, stage), title in zip(axes[0], panels, titles, strict=False):
        rows = read_log(run / stage / "log.csv")
        steps = [r["step"] for r in rows]
        loss = [r["loss"] for r in rows]
        ax.plot(steps, loss, color="0.75", lw=0.8, label="loss")
        ax.plot(steps, smooth(loss), color="C0", lw=1.5, label="loss (mean of 10 rows)")
        ax.set_title(title)
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("training loss")
        other = CURVES[stage][1]
        if other and other in rows[0]:
            twin = ax.twinx()
            twin.plot(steps, smooth([r[other] for r in rows]), color="C1", lw=1.2, label=other)
            twin.set_ylabel(f"{other} (train batches)", color="C1")
        ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return titles


def collect(runs: list[Path]) -> list[dict]:
    """Every finished stage's summary.json (config included), in training order, each with its run's name."""
    return [
        {"run": run.name, **json.loads((run / stage / "summary.json").read_text())}
        for run in runs
        for stage in STAGES
        if (run / stage / "summary.json").is_file()
    ]


def export_fp16(run: Path, out: Path) -> Path:
    """The final model of the run's last stage, cast to fp16, into the checkpoint folder ``out``.

    Only the checkpoint's own files in ``out`` are replaced (each by an atomic rename); anything
    else there (a README, the evaluation) is kept.
    """
    from fpdm_video.models.checkpoint import load_model, save_model

    finished = [s for s in STAGES if (run / s / "model").is_dir()]
    if not finished:
        raise InputError(f"{run} has no finished stage to export (no <stage>/model folder)")
    model = load_model(run / finished[-1] / "model")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.export-", dir=out.parent) as staging:
        for path in sorted(save_model(model, Path(staging) / "model", dtype=torch.float16).iterdir()):
            os.replace(path, out / path.name)
    return out


def main(argv: list[str] | None = None) -> int:
    from fpdm_video.cli import run_guarded
    from fpdm_video.run_paths import check_run_paths

    parser = argparse.ArgumentParser(prog="python -m fpdm_video.train.record", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, action="append",
                        help="run folder (run_dir of the training config); repeat it, in training order, for later phases")
    parser.add_argument("--out", required=True, help="folder for loss_curves.png and training_record.json")
    parser.add_argument("--export", action="store_true", help="also write the final model there in fp16")
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(levelname)s %(name)s: %(message)s")

    def body() -> int:
        runs, out = [Path(r) for r in args.run], Path(args.out)
        missing = [str(r) for r in runs if not logged_stages([r])]
        if missing:
            raise InputError(f"no trained stage (no <stage>/log.csv) in run folder(s): {', '.join(missing)}")
        names = ["loss_curves.png", "training_record.json"] + (["config.yaml", "model.safetensors"] if args.export else [])
        check_run_paths({f"--run {r}": r for r in runs}, {f"--out ({n})": out / n for n in names})
        if args.export:
            export_fp16(runs[-1], out)
        out.mkdir(parents=True, exist_ok=True)
        stages = plot_curves(runs, out / "loss_curves.png")
        record = {"runs": [r.name for r in runs], "stages": collect(runs), "torch": torch.__version__}
        with atomic_path(out / "training_record.json") as tmp:
            tmp.write_text(json.dumps(record, indent=2, default=to_dict) + "\n")
        logger.info("record of %s written to %s", ", ".join(stages), out)
        return 0

    return run_guarded(body)


if __name__ == "__main__":
    raise SystemExit(main())
