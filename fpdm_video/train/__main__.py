"""``python -m fpdm_video.train {vae,fusion,diffusion,distill,tiny-decoder} --config FILE.yaml``; also under ``torchrun``.

``distill --teacher CKPT -o DIR`` makes a few-step student of a trained checkpoint (``fpdm_video.train.stage_distill``),
``tiny-decoder --teacher CKPT -o DIR`` a fast decoder for its VAE (``fpdm_video.train.stage_tiny_decoder``).

``python -m fpdm_video.train poses --config FILE.yaml`` extracts, once, the pose sidecars of the
config's training split (``data.root``, ``data.split``) and of its held-out split (``eval_root``),
so that the dataset paths the stages read are the ones the poses were written for.
"""

from __future__ import annotations

import argparse
import logging

from fpdm_video.cli import run_guarded
from fpdm_video.native_logs import quiet_native_logs
from fpdm_video.train.config import STAGES, load_train_config

POSES = "poses"  # not a stage: the pose sidecars every stage reads
CLI_STAGES = tuple(stage.replace("_", "-") for stage in STAGES)  # tiny_decoder is `tiny-decoder` on the command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fpdm_video.train",
        description="Train one FPDM stage from a training config (see configs/train/). Run the stages in "
        "order (vae if the size needs its own autoencoder, then fusion, then diffusion); each starts from "
        "the previous stage's model folder named by `init` in the config. Several GPUs: torchrun "
        "--nproc-per-node N -m fpdm_video.train ...",
    )
    parser.add_argument("stage", choices=(*CLI_STAGES, POSES),
                        help="which stage to train; `distill` makes a few-step student of --teacher, `tiny-decoder` a fast "
                             "decoder for --teacher's VAE; `poses` extracts the dataset's pose sidecars first (MediaPipe, slow)")  # fmt: skip
    parser.add_argument("--teacher", help="distill, tiny-decoder: the checkpoint folder to start from (sets `init`)")
    parser.add_argument("-o", "--out", help="the run folder (sets `run_dir`); the trained checkpoint lands in OUT/STAGE/model")
    parser.add_argument("--config", required=True, help="training config YAML, e.g. configs/train/demo.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value (dotted keys, e.g. --set optim.lr=3e-4); repeatable")  # fmt: skip
    parser.add_argument("--restart", action="store_true", help="ignore a saved training state and start from step 0")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def body() -> int:
        if args.stage == POSES:
            return extract_sidecars(args.config, args.overrides, progress=not args.quiet)
        from fpdm_video.models.checkpoint import checkpoint_files
        from fpdm_video.run_paths import check_run_paths
        from fpdm_video.train.loop import train

        stage = args.stage.replace("-", "_")
        config = load_train_config(args.config, stage, [*args.overrides, *given_paths(args)])
        check_run_paths({"--config": args.config, "data.root": config.data.root, "eval_root": config.eval_root,
                         **checkpoint_files(config.init, "init"),
                         **checkpoint_files(config.distill.student_init if stage == "distill" else None, "distill.student_init")},
                        {"run_dir": config.stage_dir}, folders={"run_dir"})  # fmt: skip
        out = train(config, resume=not args.restart, progress=not args.quiet)
        logging.getLogger("fpdm_video.train").info("stage %s: outputs in %s", stage, out)
        return 0

    with quiet_native_logs(args.quiet):  # MediaPipe's known chatter on fd 2 (fpdm_video.native_logs)
        return run_guarded(body)


def given_paths(args) -> list[str]:
    """--teacher and -o as config overrides (``init=``, ``run_dir=``), quoted so that YAML reads them as strings."""
    import json

    return [f"{key}={json.dumps(str(value))}" for key, value in (("init", args.teacher), ("run_dir", args.out)) if value]


def extract_sidecars(config_path: str, overrides: list[str], progress: bool = True) -> int:
    """Write the missing pose sidecars of the config's training split and held-out split; print how many."""
    from fpdm_video.data.triples import ensure_pose_sidecars
    from fpdm_video.run_paths import check_run_paths

    config = load_train_config(config_path, "diffusion", overrides)  # the data the diffusion stage trains and is evaluated on
    splits = [(config.data.root, config.data.split)] + ([(config.eval_root, config.eval_split)] if config.eval_root else [])
    check_run_paths({"--config": config_path, "data.root": config.data.root, "eval_root": config.eval_root}, {})
    for root, split in splits:
        written = ensure_pose_sidecars(root, split, progress=progress)
        print(f"{root} {split}: {len(written)} pose sidecar(s) written, the others were there already")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
