"""Streaming: the transfer's peak memory does not grow with the video's length."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

SIZE = 384  # frames of 384x384: holding 200 of them would take 88 MB

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, torch
    torch.set_num_threads(1)
    from fpdm_video.data.synthetic_motion import generate_motion
    from fpdm_video.pose import write_pose
    from pipelines.settings import SamplingRequest
    from pipelines.transfer import SignerTransfer, TransferRequest
    frames, size, signer, ckpt, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    write_pose(generate_motion(0, frames, size, size), out + ".pose")
    runner = SignerTransfer.from_pretrained(ckpt, device="cpu")
    request = TransferRequest(sampling=SamplingRequest(steps=1, batch_size=8))
    runner.transfer(out + ".pose", signer, out + ".mp4", request=request, progress=False)
    print(json.dumps({"max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """
)


def peak_rss_mb(frames: int, signer, ckpt, out) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(frames), str(SIZE), str(signer), str(ckpt), str(out)],
                          capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["max_rss_mb"]


@pytest.mark.slow
def test_peak_memory_is_flat_in_video_length(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    short = peak_rss_mb(40, example_inputs.signer_image, tiny_checkpoint, tmp_path / "short")
    long = peak_rss_mb(200, example_inputs.signer_image, tiny_checkpoint, tmp_path / "long")
    # 160 more frames of 384x384x3 would be 71 MB if frames were held; poses add ~1 MB
    assert long - short < 25, (short, long)
