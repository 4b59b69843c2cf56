"""The app's settings: a typed dataclass, built from the command line (see ``python -m fpdm_video.app --help``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdm_video.errors import InputError

DEFAULT_HOST = "127.0.0.1"  # loopback only: other machines reach the app only when asked (--host 0.0.0.0 or --share)
DEFAULT_PORT = 7860  # Gradio's usual port


@dataclass(frozen=True)
class AppConfig:
    """Everything the app is started with; the page offers visitors only what this allows."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    share: bool = False  # a public Gradio share link (needs the internet); off unless asked
    checkpoints: tuple[Path, ...] = ()  # checkpoint folders offered, the first the default; empty: the embedded demo alone
    checkpoint_dirs: tuple[Path, ...] = ()  # folders whose sub-folders holding a checkpoint are offered too
    include_demo: bool = True  # also offer the embedded demo model (last when --checkpoint names others)
    max_upload_mb: float = 100.0  # largest file a visitor may upload
    max_frames: int = 300  # most frames one transfer may render
    batch_size: int = 4  # frames rendered together; a cancel takes effect between batches
    device: str = "auto"  # auto, cpu or cuda, as the CLI's --device
    dtype: str = "auto"  # auto, fp32, bf16 or fp16, as the CLI's --dtype
    work_dir: Path | None = None  # where visitor folders, example inputs and Gradio's cache live; None: a new temporary folder
    queue_size: int = 20  # visitors who may wait in the queue at once
    cache_sweep_s: int = 600  # how often Gradio's cache (uploads, copies of results) is swept...
    cache_max_age_s: int = 3600  # ...of files older than this
    examples: bool = True  # generate the example inputs at start-up (a few seconds)
    default_speed: str = "fast"  # the speed preset the page starts with

    def check(self) -> None:
        if not 0 < self.port < 65536:
            raise InputError(f"--port must be from 1 to 65535, got {self.port}")
        for name in ("max_frames", "batch_size", "queue_size", "cache_sweep_s", "cache_max_age_s"):
            value = getattr(self, name)
            if value < 1:
                raise InputError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
        if not self.max_upload_mb > 0:
            raise InputError(f"--max-upload-mb must be more than 0, got {self.max_upload_mb}")
        if self.default_speed not in ("paper", "balanced", "fast"):
            raise InputError(f"--speed must be paper, balanced or fast, got {self.default_speed!r}")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def build_parser() -> argparse.ArgumentParser:
    d = AppConfig()
    p = argparse.ArgumentParser(prog="python -m fpdm_video.app", description="A web page for the signer transfer: upload a signing video "
                                "and a photo, watch it render, download the result.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("--host", default=d.host, help="address to listen on (0.0.0.0: every network interface)")
    p.add_argument("--port", type=int, default=d.port, help="port to listen on")
    p.add_argument("--share", action="store_true", help="also open a public Gradio share link (needs the internet)")
    m = p.add_argument_group("models")
    m.add_argument("--checkpoint", type=Path, action="append", default=[],
                   help="a checkpoint folder to offer (repeatable; the first is the default); default: the embedded demo model")
    m.add_argument("--checkpoints-dir", type=Path, action="append", default=[],
                   help="offer every sub-folder of this folder that holds a checkpoint (repeatable)")
    m.add_argument("--no-demo", action="store_true", help="do not offer the embedded demo model")
    m.add_argument("--device", choices=("auto", "cpu", "cuda"), default=d.device, help="where to run (auto: the GPU if there is one)")
    m.add_argument("--dtype", choices=("auto", "fp32", "bf16", "fp16"), default=d.dtype, help="number format, as the transfer CLI's")
    m.add_argument("--batch-size", type=int, default=d.batch_size, help="frames rendered together; a cancel stops between batches")
    m.add_argument("--speed", dest="default_speed", choices=("paper", "balanced", "fast"), default=d.default_speed,
                   help="the speed preset the page starts with (docs/speed.md)")
    lim = p.add_argument_group("limits")
    lim.add_argument("--max-upload-mb", type=float, default=d.max_upload_mb, help="largest upload, in MiB")
    lim.add_argument("--max-frames", type=int, default=d.max_frames, help="most frames one transfer may render")
    lim.add_argument("--queue-size", type=int, default=d.queue_size, help="visitors who may wait in the queue at once")
    lim.add_argument("--cache-max-age", dest="cache_max_age_s", type=int, default=d.cache_max_age_s,
                     help="seconds after which Gradio's cached uploads and result copies are removed")
    lim.add_argument("--cache-sweep", dest="cache_sweep_s", type=int, default=d.cache_sweep_s, help="seconds between two sweeps of that cache")
    f = p.add_argument_group("files")
    f.add_argument("--work-dir", type=Path, help="folder for visitor folders, example inputs and Gradio's cache (default: a new temporary "
                   "folder, removed on exit)")  # fmt: skip
    f.add_argument("--no-examples", action="store_true", help="do not generate the example inputs at start-up")
    return p


def config_from_args(argv: Sequence[str] | None = None) -> AppConfig:
    a = build_parser().parse_args(argv)
    config = AppConfig(host=a.host, port=a.port, share=a.share, checkpoints=tuple(a.checkpoint), checkpoint_dirs=tuple(a.checkpoints_dir),
                       include_demo=not a.no_demo, max_upload_mb=a.max_upload_mb, max_frames=a.max_frames, batch_size=a.batch_size,
                       device=a.device, dtype=a.dtype, work_dir=a.work_dir, queue_size=a.queue_size, cache_sweep_s=a.cache_sweep_s,
                       cache_max_age_s=a.cache_max_age_s, examples=not a.no_examples, default_speed=a.default_speed)  # fmt: skip
    config.check()
    return config
