"""The training record of a run: loss curves as a PNG and the facts of every stage as JSON.

``python -m fpdm_video.train.record --run runs/demo --out fpdm_video/weights/demo`` reads each
stage's ``log.csv`` and ``summary.json`` and writes ``loss_curves.png`` and ``training_record.json``
(config, steps, wall time and device per stage, and the stage evaluations) into ``--out``. With
``--export``, it also writes the final model there in fp16 (``config.yaml`` + ``model.safetensors``).
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
from fpdm_video.train.config import STAGES
from fpdm_video.train.csv_log import read_log

logger = logging.getLogger(__name__)

CURVES = {"vae": ("loss", "psnr"), "fusion": ("loss", "top1"), "diffusion": ("loss", None)}


def smooth(values: list[float], window: int = 10) -> np.ndarray:
    """Trailing moving average (the first points average what there is)."""
    v = np.asarray(values, dtype=np.float64)
    c = np.cumsum(np.insert(v, 0, 0.0))
    n = np.minimum(np.arange(1, len(v) + 1), window)
    return (c[1:] - c[np.arange(1, len(v) + 1) - n]) / n


def plot_curves(run: Path, path: Path) -> list[str]:
    """One panel per stage that has a log; returns the stages drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = [s for s in STAGES if (run / s / "log.csv").is_file()]
    fig, axes = plt.subplots(1, max(1, len(stages)), figsize=(4.2 * max(1, len(stages)), 3.2), squeeze=False)
    for ax, stage in zip(axes[0], stages, strict=False):
        rows = read_log(run / stage / "log.csv")
        steps = [r["step"] for r in rows]
        loss = [r["loss"] for r in rows]
        ax.plot(steps, loss, color="0.75", lw=0.8, label="loss")
        ax.plot(steps, smooth(loss), color="C0", lw=1.5, label="loss (mean of 10 rows)")
        ax.set_title(f"{stage}")
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
    return stages


def collect(run: Path) -> dict:
    """Every stage's summary.json (without the long config) plus its config."""
    record = {}
    for stage in STAGES:
        summary = run / stage / "summary.json"
        if summary.is_file():
            record[stage] = json.loads(summary.read_text())
    return record


def export_fp16(run: Path, out: Path) -> Path:
    """The final model of the run's last stage, cast to fp16, into the checkpoint folder ``out``.

    Only the checkpoint's own files in ``out`` are replaced (each by an atomic rename); anything
    else there (a README, the evaluation) is kept.
    """
    from fpdm_video.models.checkpoint import load_model, save_model

    last = [s for s in STAGES if (run / s / "model").is_dir()][-1]
    model = load_model(run / last / "model")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.export-", dir=out.parent) as staging:
        for path in sorted(save_model(model, Path(staging) / "model", dtype=torch.float16).iterdir()):
            os.replace(path, out / path.name)
    return out


def main(argv: list[str] | None = None) -> int:
    from fpdm_video.cli import run_guarded

    parser = argparse.ArgumentParser(prog="python -m fpdm_video.train.record", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="run folder (run_dir of the training config)")
    parser.add_argument("--out", required=True, help="folder for loss_curves.png and training_record.json")
    parser.add_argument("--export", action="store_true", help="also write the final model there in fp16")
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(levelname)s %(name)s: %(message)s")

    def body() -> int:
        run, out = Path(args.run), Path(args.out)
        if args.export:
            export_fp16(run, out)
        out.mkdir(parents=True, exist_ok=True)
        stages = plot_curves(run, out / "loss_curves.png")
        record = {"stages": collect(run), "torch": torch.__version__}
        with atomic_path(out / "training_record.json") as tmp:
            tmp.write_text(json.dumps(record, indent=2, default=to_dict) + "\n")
        logger.info("record of %s written to %s", ", ".join(stages), out)
        return 0

    return run_guarded(body)


if __name__ == "__main__":
    raise SystemExit(main())
