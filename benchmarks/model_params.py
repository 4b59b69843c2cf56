"""Parameter counts per part of every FPDM size, as JSON.

    python benchmarks/model_params.py [--out benchmarks/results/model_params.json]

Models are built on PyTorch's meta device (shapes only, no memory, no weights), so even the
SD 2.1 sizes count in seconds. The UNet count is split into the SD 2.1 UNet proper and FPDM's
additions (the class-embedding projection of the fused embedding).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch

from fpdm_video.models.params import part_counts
from fpdm_video.models.registry import CONFIG_REGISTRY, build_model
from result_file import check_result, write_result


def sizes_counts(name: str) -> dict[str, int]:
    with torch.device("meta"):
        return part_counts(build_model(name, load_pretrained=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the JSON here too")
    args = parser.parse_args()
    if args.out:
        check_result(args.out)
    result = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "sizes": {name: sizes_counts(name) for name in CONFIG_REGISTRY},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        write_result(args.out, result)


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
