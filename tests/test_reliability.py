"""Hostile and careless use of the transfer CLI: full disks, hostile images and checkpoints, inputs named like
leftovers, pipes. Each refused case is one ``error:`` line, exit code 2, no traceback, no file left behind, and
every input byte-identical; each accepted one leaves its inputs as they were."""

from __future__ import annotations

import errno
import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fpdm_video.transfer import main
from fpdm_video.video import read_video

from factories_paths import dead_pid, stale_folder, stale_name
from factories_reliability import (  # noqa: F401 (small_tmpfs: a fixture)
    checkpoint_with,
    enospc,
    fifo_that_cannot_hang,
    open_files_under,
    png_with_size,
    small_tmpfs,
)
from factories_safety import Workspace, assert_refused, workspace  # noqa: F401 (fixture)
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

FAST = ["--steps", "1", "--quiet"]
REPO = Path(__file__).resolve().parents[1]


def refused(ws: Workspace, args: list, capsys, message: str, *, checkpoint: Path | None = None) -> str:
    """Run the CLI on ``args`` and check that it refuses with ``message``, leaving ``ws`` exactly as it was."""
    before = ws.snapshot()
    code = main(["--checkpoint", str(checkpoint or ws.checkpoint), *FAST] + [str(a) for a in args])
    err = capsys.readouterr().err
    assert_refused(code, err, message, before, ws.snapshot())
    assert ".tmp" not in err  # outputs are named by their own names, never by a temporary one
    return err


def drive(ws: Workspace, out: Path, *extra) -> list:
    """Arguments of a run driven by the workspace's poses (no MediaPipe on the driving clip: fast)."""
    return [ws.poses, "--signer", ws.signer, "-o", out, *extra]


# ---- the stale-temporary clean-up never deletes an input ----------------------------------------
def test_an_input_named_like_a_dead_writers_temporary_file_is_read_not_deleted(workspace, capsys):  # noqa: F811
    out_dir = workspace.root / "out"
    out_dir.mkdir()
    named = out_dir / stale_name("clip", dead_pid(), suffix=".mp4")  # .clip.<dead pid>-deadbeef.tmp.mp4
    shutil.copy2(workspace.video, named)
    kept = named.read_bytes()
    code = main(["--checkpoint", str(workspace.checkpoint), *FAST, str(named), "--signer", str(workspace.signer),
                 "--poses", str(workspace.poses), "-o", str(out_dir / "out.mp4")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert named.read_bytes() == kept
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([named.name, "out.json", "out.mp4"])


def test_a_leftover_temporary_folder_given_as_the_input_is_not_removed(workspace, capsys):  # noqa: F811
    # a frame folder that is a dead writer's marked temporary folder, in the output folder, read as the input
    out_dir = workspace.root / "out"
    out_dir.mkdir()
    frames = stale_folder(out_dir, "clip", dead_pid())
    for i, frame in enumerate(read_video(workspace.video).frames, start=1):
        Image.fromarray(frame).save(frames / f"images{i:04d}.png")
    before = {p.name: p.read_bytes() for p in frames.iterdir()}
    code = main(["--checkpoint", str(workspace.checkpoint), *FAST, str(frames), "--signer", str(workspace.signer),
                 "--poses", str(workspace.poses), "-o", str(out_dir / "out.mp4")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in frames.iterdir()} == before


# ---- a full disk -----------------------------------------------------------------------------------
OUTPUTS = {"-o": "out.mp4", "--comparison": "side.mp4", "--save-poses": "saved.pose"}


def _all_outputs(ws: Workspace) -> list:
    out = ws.root / "out"
    return [ws.video, "--signer", ws.signer, "--poses", ws.poses, "-o", out / OUTPUTS["-o"],
            "--comparison", out / OUTPUTS["--comparison"], "--save-poses", out / OUTPUTS["--save-poses"]]  # fmt: skip


@pytest.mark.parametrize("option", ["-o", "--comparison"])
def test_a_full_disk_under_pyav(workspace, capsys, monkeypatch, option):  # noqa: F811
    # FFmpeg itself meets the full disk: the writer of `option` is handed /dev/full, which answers every write with
    # ENOSPC, where it opens its temporary file, so the error comes out of PyAV wherever FFmpeg first writes
    from fpdm_video.temp_names import final_path
    from fpdm_video.video import writer

    name = OUTPUTS[option]

    def open_full(path, mode="r", **kwargs):
        if "w" in mode and final_path(path).name == name:
            full = open("/dev/full", mode, **kwargs)
            full.name = str(path)  # FFmpeg picks the container from the name
            return full
        return open(path, mode, **kwargs)

    monkeypatch.setattr(writer, "open", open_full, raising=False)
    (workspace.root / "out").mkdir()
    err = refused(workspace, _all_outputs(workspace), capsys, "no space left on the device")
    assert str(workspace.root / "out" / OUTPUTS["-o"]) in err


@pytest.mark.parametrize("option", ["--save-poses", "record"])
def test_a_full_disk_under_a_plain_write(workspace, capsys, monkeypatch, option):  # noqa: F811
    # a writer that gets half its bytes out and then meets a full disk: the pose file, or the record (JSON)
    import pipelines.transfer.api as api

    if option == "--save-poses":
        def write_pose(pose, path):
            Path(path).write_bytes(b"half a pose file")
            raise enospc(path)

        monkeypatch.setattr(api, "write_pose", write_pose)
    else:
        real = Path.write_text

        def write_text(self, data, *args, **kwargs):
            if self.suffix == ".json":
                real(self, data[: len(data) // 2], *args, **kwargs)
                raise enospc(self)
            return real(self, data, *args, **kwargs)

        monkeypatch.setattr(Path, "write_text", write_text)
    (workspace.root / "out").mkdir()
    refused(workspace, _all_outputs(workspace), capsys, "no space left on the device")


@pytest.mark.parametrize(("code", "message"), [(errno.ENOSPC, "no space left on the device"),
                                             (errno.EDQUOT, "the disk quota is used up"),
                                             (errno.EROFS, "the file system is read-only (Read-only file system); the "
                                                           "outputs were not written: choose a writable output folder")])  # fmt: skip
def test_a_failed_flush_to_disk_fails_the_write(workspace, capsys, monkeypatch, code, message):  # noqa: F811
    # some file systems (NFS, delayed allocation) report a full disk only when the file is flushed
    from fpdm_video import atomic

    def fsync(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    (workspace.root / "out").mkdir()
    err = refused(workspace, _all_outputs(workspace), capsys, message)
    assert ".tmp" not in err  # the outputs by their own names, never a temporary one


def test_an_output_name_as_long_as_the_file_system_allows(workspace, capsys):  # noqa: F811
    # 250 bytes is a legal name; the temporary name beside it must not pass the 255-byte limit either
    out = workspace.root / ("n" * 245 + ".mp4")
    code = main(["--checkpoint", str(workspace.checkpoint), *FAST] + [str(a) for a in drive(workspace, out)])
    assert code == 0, capsys.readouterr().err
    assert out.is_file() and out.with_suffix(".json").is_file()
    assert sorted(p.name for p in workspace.root.iterdir() if p.name.startswith(".")) == []


def test_a_shortened_folder_moved_aside_is_left_in_place(tmp_path, monkeypatch):
    from fpdm_video.temp_names import is_shortened, mark, parse_temp_name, remove_stale, temp_name

    pid = dead_pid()
    with monkeypatch.context() as m:  # made as the dead process made it (a pid of other length shortens it otherwise)
        m.setattr(os, "getpid", lambda: pid)
        name = temp_name("c" * 250, "old")
    assert is_shortened(name) and parse_temp_name(name) is not None and len(os.fsencode(name)) <= 255
    moved = tmp_path / name
    moved.mkdir()
    mark(moved)
    (moved / "images0001.png").write_bytes(b"the only copy")
    assert remove_stale(tmp_path) == [] and (moved / "images0001.png").read_bytes() == b"the only copy"


@pytest.mark.slow
@pytest.mark.parametrize(("option", "pages_free"), [("-o", 0), ("-o", 1), ("-o", 3), ("--comparison", 0), ("--comparison", 1),
                                                    ("--save-poses", 0), ("--save-poses", 1), ("--save-poses", 10)])  # fmt: skip
def test_a_real_full_tmpfs(workspace, small_tmpfs, capsys, option, pages_free):  # noqa: F811
    # a real file system that runs out, at several points: with no page left, or a few (each output needs a page for
    # its temporary folder's marker and at least one for its data; the pose file needs 19). Nothing may stay on it
    # but what filled it, and the inputs stay as they were
    folder = small_tmpfs(pages_free)
    args = drive(workspace, folder / "out.mp4") if option == "-o" else drive(workspace, workspace.root / "out.mp4", option,
                                                                              folder / OUTPUTS[option])  # fmt: skip
    refused(workspace, args, capsys, "no space left on the device")
    assert list(folder.iterdir()) == []
    assert open_files_under(folder.parent) == []  # no descriptor keeps a deleted file's space taken


# ---- hostile images -------------------------------------------------------------------------------
@pytest.mark.parametrize(("width", "height", "message"), [
    (20000, 20000, "more pixels than PIL opens"),  # PIL's DecompressionBombError
    (10000, 9000, "90 megapixels"),  # above the limit, below PIL's refusal (PIL would only warn)
])  # fmt: skip
def test_a_signer_photo_with_too_many_pixels(workspace, capsys, width, height, message):  # noqa: F811
    photo = png_with_size(workspace.root / "in" / "huge.png", width, height)
    refused(workspace, drive(workspace, workspace.root / "out.mp4") + ["--signer", photo], capsys, message)


@pytest.mark.parametrize(("width", "height", "message"), [(2000, 10, "more than 16 times as wide as high"),
                                                          (10, 3000, "more than 16 times as high as wide")])  # fmt: skip
def test_a_signer_photo_of_an_odd_shape(workspace, capsys, width, height, message):  # noqa: F811
    photo = workspace.root / "in" / "strip.png"
    Image.new("RGB", (width, height), (200, 120, 90)).save(photo)
    refused(workspace, drive(workspace, workspace.root / "out.mp4") + ["--signer", photo], capsys, message)


@pytest.mark.slow
def test_a_very_wide_signer_photo_is_refused_before_mediapipe_sees_it(workspace):  # noqa: F811
    # 32767 px or more across makes MediaPipe's OpenCV abort the whole process (SIGABRT; 69 megapixels, 15.7:1, within
    # the other limits); in a child process, so that a regression fails this test instead of killing the test run
    photo = workspace.root / "in" / "wide.png"
    Image.new("L", (33000, 2100), 128).save(photo)
    before = workspace.snapshot()
    done = subprocess.run([sys.executable, "-m", "fpdm_video.transfer", str(workspace.poses), "--signer", str(photo),
                           "--checkpoint", str(workspace.checkpoint), "-o", str(workspace.root / "out.mp4"), *FAST],
                          cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert lines[-1].startswith("error: ") and "a side longer than the 16384" in lines[-1] and "Traceback" not in done.stderr
    assert workspace.snapshot() == before


def test_a_frame_mediapipe_would_abort_on_is_refused_first():
    from fpdm_video.errors import InputError
    from fpdm_video.pose.extract import HolisticExtractor

    class NeverCalled:  # stands for the MediaPipe graph, which must not be handed the frame
        def process(self, frame):
            raise AssertionError("MediaPipe was handed a frame it aborts on")

        def close(self):
            pass

    extractor = HolisticExtractor()
    extractor._graph = NeverCalled()
    with pytest.raises(InputError, match="a frame is 33000x2 pixels, a side longer than"):
        extractor.process(np.zeros((2, 33000, 3), np.uint8))


@pytest.mark.parametrize("kind", ["truncated", "text", "empty"])
def test_a_signer_photo_that_is_not_a_whole_image(workspace, capsys, kind):  # noqa: F811
    photo = workspace.root / "in" / "bad.png"
    data = workspace.signer.read_bytes()
    photo.write_bytes({"truncated": data[: len(data) // 2], "text": b"not an image\n", "empty": b""}[kind])
    refused(workspace, drive(workspace, workspace.root / "out.mp4") + ["--signer", photo], capsys, "is not a readable image")


# ---- pipes and other files that are not files --------------------------------------------------------
@pytest.mark.parametrize("role", ["INPUT", "--signer", "--poses", "--checkpoint (config)", "symlink"])
def test_a_named_pipe_is_refused_at_once(workspace, capsys, role):  # noqa: F811
    out = workspace.root / "out.mp4"
    pipe_path = workspace.root / "in" / ("pipe.yaml" if "checkpoint" in role else "pipe.mp4")
    with fifo_that_cannot_hang(pipe_path) as pipe:
        if role == "INPUT":
            args, label = [pipe, "--signer", workspace.signer, "-o", out], "INPUT"
        elif role == "--signer":
            args, label = [workspace.poses, "--signer", pipe, "-o", out], "--signer"
        elif role == "--poses":
            args, label = [workspace.video, "--signer", workspace.signer, "--poses", pipe, "-o", out], "--poses"
        elif role == "symlink":  # a link to a pipe is a pipe
            link = workspace.root / "in" / "link.mp4"
            link.symlink_to(pipe)
            args, label = [link, "--signer", workspace.signer, "-o", out], "INPUT"
        else:  # the checkpoint's config is a pipe
            checkpoint = workspace.root / "pipe-ckpt"
            checkpoint.mkdir()
            shutil.copy2(workspace.checkpoint / "model.safetensors", checkpoint)
            (checkpoint / "config.yaml").symlink_to(pipe)
            args, label = drive(workspace, out) + ["--checkpoint", checkpoint], "--checkpoint (config)"
        err = refused(workspace, args, capsys, f"{label} ")
    assert "is a named pipe (FIFO), not a regular file or a folder" in err


def test_an_output_that_is_a_named_pipe_is_not_replaced(workspace, capsys):  # noqa: F811
    with fifo_that_cannot_hang(workspace.root / "out.mp4") as pipe:
        refused(workspace, drive(workspace, pipe), capsys, "-o ")
        assert Path(pipe).is_fifo()


def test_a_device_as_input_is_refused(workspace, capsys):  # noqa: F811
    refused(workspace, ["/dev/zero", "--signer", workspace.signer, "-o", workspace.root / "out.mp4"], capsys,
            "INPUT /dev/zero is a character device")


# ---- hostile checkpoints ---------------------------------------------------------------------------
def _set(path: str, value):
    """An edit of the parsed config: set the value at dotted ``path``."""

    def edit(data: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[key]
        data[last] = value

    return edit


CONFIG_CASES = {
    "unet keyword": ("unet.kwargs.bogus_width", 3, "unet.kwargs: unknown keyword(s) ['bogus_width'] for diffusers' UNet2DConditionModel"),
    "unet keyword typo": ("unet.kwargs.layers_per_blok", 1, "(did you mean 'layers_per_block'?)"),
    "vae keyword": ("vae.kwargs.bogus", 1, "vae.kwargs: unknown keyword(s) ['bogus'] for diffusers' AutoencoderKL"),
    "clip tower keyword": ("fusion_encoder.tower.custom.bogus", 1, "fusion_encoder.tower.custom: unknown keyword(s) ['bogus'] for open_clip's CLIPVisionCfg"),
    "source tower keyword": ("source_encoder.tower.custom.heads", 2, "source_encoder.tower.custom: unknown keyword(s) ['heads']"),
    "timm downloads": ("fusion_encoder.tower.custom.timm_model_pretrained", True, "timm would download its weights"),
    "negative timesteps": ("noise_schedule.num_train_timesteps", -5, "noise_schedule.num_train_timesteps must be a whole number of timesteps from 1 to 100000, got -5"),
    "text timesteps": ("noise_schedule.num_train_timesteps", "many", "noise_schedule.num_train_timesteps must be a whole number of timesteps from 1 to 100000, got 'many'"),
    "float timesteps": ("noise_schedule.num_train_timesteps", 999.5, "noise_schedule.num_train_timesteps must be"),
    "bool timesteps": ("noise_schedule.num_train_timesteps", True, "noise_schedule.num_train_timesteps must be"),
    "huge timesteps": ("noise_schedule.num_train_timesteps", 10**12, "noise_schedule.num_train_timesteps must be"),
    "timm hub name": ("source_encoder", {"kind": "timm", "timm_name": "hf-hub:timm/vit_small_patch14_dinov2.lvd142m"}, "source_encoder.timm_name must be a timm architecture name"),
    "unknown timm name": ("source_encoder", {"kind": "timm", "timm_name": "no_such_vit"}, "source_encoder.timm_name: 'no_such_vit' is not a model timm"),
    "unknown open_clip arch": ("fusion_encoder.tower", {"arch": "ViT-Q-99"}, "fusion_encoder.tower.arch: unknown open_clip architecture 'ViT-Q-99'"),
    "text guidance": ("sampling.guidance", "high", "sampling.guidance must be a finite number, got 'high'"),
    "nan guidance": ("sampling.guidance", float("nan"), "sampling.guidance must be a finite number"),
    "yaml 1.1 float": ("noise_schedule.beta_start", "8.5e-4", "write it with a dot"),
    "dropout": ("combiner.dropout", 2.0, "combiner.dropout must be a probability from 0 to below 1"),
    "betas reversed": ("noise_schedule.beta_start", 0.5, "noise_schedule: beta_start must be smaller than beta_end"),
    "schedule choice": ("noise_schedule.beta_schedule", "cosine", "noise_schedule.beta_schedule must be one of linear, scaled_linear"),
    "resolution bool": ("resolution", True, "resolution must be a positive number of pixels"),
    "resolution huge": ("resolution", 10**6, "resolution must be a positive number of pixels"),
    "mean length": ("fusion_encoder.tower.mean", [0.5, 0.5], "fusion_encoder.tower.mean must be a list of 3 numbers"),
    "std zero": ("fusion_encoder.tower.std", [0.2, 0.0, 0.2], "fusion_encoder.tower.std must be 3 positive numbers"),
    "section as text": ("combiner", "big", "combiner must be a mapping (the fields of CombinerConfig), got 'big'"),
    "unknown section": ("extra", {"a": 1}, "unknown key(s) ['extra'] for FPDMConfig"),
    "non-string key": ("unet.kwargs", {1: 2}, "unet.kwargs: key 1 must be a string"),
    "deep value": ("unet.kwargs.sample_size", functools.reduce(lambda v, _: [v], range(40), 1), "nested more than 32 levels deep"),
    "sample size as text": ("unet.kwargs.sample_size", "z", "unet.kwargs.sample_size must be a positive whole number"),
    "transformers config value": ("fusion_encoder", {"kind": "hf", "hf": {"architecture": "clip", "config": {"hidden_size": "big"}}},
                                  "the transformers config of the clip encoder is invalid"),
    "a layer too wide to allocate": ("combiner.hidden_dim", 65536, "combiner.hidden_dim must be a whole number from 1 to 16384"),
    "a value a library refuses": ("unet.kwargs.norm_num_groups", 5, "is invalid: num_channels (16) must be divisible by num_groups (5)"),
    "a value a library trips over": ("unet.kwargs.cross_attention_dim", "wide", "cannot build a model: TypeError: "),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_a_checkpoint_config_that_no_model_can_be_built_from(workspace, capsys, monkeypatch, case):  # noqa: F811
    path, value, message = CONFIG_CASES[case]
    bad = checkpoint_with(workspace.checkpoint, workspace.root / "bad", _set(path, value))
    err = refused(workspace, drive(workspace, workspace.root / "out.mp4"), capsys, message, checkpoint=bad)
    assert str(bad / "config.yaml") in err  # the file, beside the key


TEXT_CASES = {
    "nested 5000 deep": ("resolution: " + "[" * 5000 + "]" * 5000 + "\n", "is nested too deeply"),
    "alias bomb": (None, "the config's free-form values count more than 100000 by unet.kwargs.x4"),
    "empty": ("", "must hold a mapping (the model's config), got nothing"),
    "a list": ("- 1\n- 2\n", "must hold a mapping (the model's config), got list"),
    "missing keys": ("combiner: {}\n", "missing key(s) ['name', 'resolution'] for FPDMConfig"),
    "binary": ("\x00\x01\x02 not yaml \x7f", "is not valid YAML"),
}  # fmt: skip


def alias_bomb(levels: int = 6, fan: int = 10) -> str:
    """A few lines of YAML whose aliases stand for fan ** levels values (an "alias bomb"), inside unet.kwargs."""
    lines = ["name: tiny", "resolution: 32", "unet:", "  kwargs:", "    x0: &a0 [" + ", ".join(["1"] * fan) + "]"]
    lines += [f"    x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", list(TEXT_CASES))
def test_a_checkpoint_config_file_that_is_not_a_config(workspace, capsys, case):  # noqa: F811
    text, message = TEXT_CASES[case]
    text = alias_bomb() if text is None else text
    bad = checkpoint_with(workspace.checkpoint, workspace.root / "bad", text=text)
    err = refused(workspace, drive(workspace, workspace.root / "out.mp4"), capsys, message, checkpoint=bad)
    assert str(bad / "config.yaml") in err


@pytest.mark.parametrize("weights", [b"", b"\x00" * 64, None])
def test_checkpoint_weights_that_are_not_weights(workspace, capsys, weights):  # noqa: F811
    bad = checkpoint_with(workspace.checkpoint, workspace.root / "bad", lambda data: None)
    if weights is None:  # a folder where the weights file should be
        (bad / "model.safetensors").unlink()
        (bad / "model.safetensors").mkdir()
        message = "model.safetensors"
    else:
        (bad / "model.safetensors").write_bytes(weights)
        message = f"cannot read {bad / 'model.safetensors'}"
    refused(workspace, drive(workspace, workspace.root / "out.mp4"), capsys, message, checkpoint=bad)


@pytest.mark.parametrize("case", ["checkpoint is a file", "config is a folder", "poses are a folder"])
def test_a_folder_where_a_file_belongs_and_the_other_way_round(workspace, capsys, case):  # noqa: F811
    out = workspace.root / "out.mp4"
    if case == "checkpoint is a file":
        (workspace.root / "model.ckpt").write_bytes(b"weights?")
        refused(workspace, drive(workspace, out), capsys, "model.ckpt is a file; give the checkpoint's folder",
                checkpoint=workspace.root / "model.ckpt")
    elif case == "config is a folder":
        bad = checkpoint_with(workspace.checkpoint, workspace.root / "bad", lambda data: None)
        (bad / "config.yaml").unlink()
        (bad / "config.yaml").mkdir()
        refused(workspace, drive(workspace, out), capsys, "config.yaml is a folder, not a file", checkpoint=bad)
    else:
        (workspace.root / "in" / "p.pose").mkdir()
        refused(workspace, [workspace.video, "--signer", workspace.signer, "--poses", workspace.root / "in" / "p.pose", "-o", out],
                capsys, "p.pose is a folder; give the path of a .pose file")


def test_the_whole_config_is_checked_before_any_model_is_built(workspace, capsys, monkeypatch):  # noqa: F811
    # a bad key is reported before any part is built (building would have failed elsewhere, or taken long)
    from fpdm_video.models import fpdm

    def never(*args, **kwargs):
        raise AssertionError("a model was built from an invalid config")

    monkeypatch.setattr(fpdm.FPDM, "__init__", never)
    bad = checkpoint_with(workspace.checkpoint, workspace.root / "bad", _set("unet.kwargs.bogus", 1))
    refused(workspace, drive(workspace, workspace.root / "out.mp4"), capsys, "unet.kwargs: unknown keyword(s) ['bogus']",
            checkpoint=bad)


def test_every_typed_field_of_the_model_config_is_checked(tiny_checkpoint):  # noqa: F811
    # each field of FPDMConfig (and of its sections), given a value of another type, is refused by its dotted name
    import dataclasses
    import typing

    import yaml

    from fpdm_video.config import FPDMConfig, from_dict
    from fpdm_video.errors import InputError

    plain = yaml.safe_load((tiny_checkpoint / "config.yaml").read_text())

    def leaves(cls, prefix=""):
        for f in dataclasses.fields(cls):
            tp = typing.get_type_hints(cls)[f.name]
            options = [tp, *typing.get_args(tp)]
            mapping = any(dataclasses.is_dataclass(a) or typing.get_origin(a) is dict or a in (dict, typing.Any) for a in options)
            if dataclasses.is_dataclass(tp):
                yield from leaves(tp, f"{prefix}{f.name}.")
            elif not mapping:  # a mapping is what a section or a free-form field holds: not "another type" there
                yield f"{prefix}{f.name}"

    paths = list(leaves(FPDMConfig))
    assert len(paths) > 40  # every scalar and list field of the model config
    for path in paths:
        data = yaml.safe_load(yaml.safe_dump(plain))
        node = data
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = {"not": "this type"}
        with pytest.raises(InputError, match="^" + re.escape(path) + " must be "):
            from_dict(FPDMConfig, data)


def test_the_config_knows_the_architectures_the_encoders_build():
    from fpdm_video.config import HF_ARCHITECTURES
    from fpdm_video.models.encoders_hf import ARCHITECTURES

    assert set(HF_ARCHITECTURES) == set(ARCHITECTURES)
