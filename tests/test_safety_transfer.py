"""The transfer CLI never destroys its inputs: each refused case exits 2 with one line and leaves every file as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fpdm_video.transfer import main

from factories_paths import ALIASES, alias
from factories_safety import Workspace, assert_refused, workspace  # noqa: F401 (fixture)
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

FAST = ["--steps", "1", "--quiet"]
def refused(ws: Workspace, args: list, capsys, message: str, *, checkpoint: Path | None = None) -> None:
    before = ws.snapshot()
    code = main(["--checkpoint", str(checkpoint or ws.checkpoint), *FAST] + [str(a) for a in args])  # the case's own options win
    assert_refused(code, capsys.readouterr().err, message, before, ws.snapshot())


@pytest.mark.parametrize("kind", ALIASES)
@pytest.mark.parametrize("flag", ["-o", "--comparison"])
def test_a_video_output_that_is_the_input_video(workspace, capsys, flag, kind):  # noqa: F811
    target = alias(kind, workspace.video, workspace.root)
    args = [workspace.video, "--signer", workspace.signer, flag, target]
    if flag == "--comparison":
        args += ["-o", workspace.root / "out.mp4"]
    refused(workspace, args, capsys, f"{flag} {target} is the input INPUT")


@pytest.mark.parametrize("kind", ALIASES)
def test_saved_poses_that_are_the_input_poses(workspace, capsys, kind):  # noqa: F811
    target = alias(kind, workspace.poses, workspace.root)
    refused(workspace, [workspace.video, "--signer", workspace.signer, "--poses", workspace.poses, "--save-poses", target,
                        "-o", workspace.root / "out.mp4"], capsys, f"--save-poses {target} is the input --poses")  # fmt: skip


def test_saved_poses_must_be_a_pose_file(workspace, capsys):  # noqa: F811
    refused(workspace, [workspace.video, "--signer", workspace.signer, "--save-poses", workspace.signer,
                        "-o", workspace.root / "out.mp4"], capsys, "--save-poses")  # fmt: skip


def test_comparison_equal_to_the_output(workspace, capsys):  # noqa: F811
    out = workspace.root / "out.mp4"
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", out, "--comparison", out], capsys,
            "name the same file")


def test_the_signer_photo_as_output_record(workspace, capsys):  # noqa: F811
    # -o signer.mp4 would write its record over signer.json; here the record is the photo itself
    photo = workspace.root / "in" / "ref.json"
    photo.write_bytes(workspace.signer.read_bytes())
    refused(workspace, [workspace.video, "--signer", photo, "-o", workspace.root / "in" / "ref.mp4"], capsys,
            f"record {photo} is the input --signer")


@pytest.mark.parametrize("guidance", ["inf", "1e30", "nan", "-inf", "0.5"])
def test_guidance_out_of_range(workspace, capsys, guidance):  # noqa: F811
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4",
                        f"--guidance={guidance}"], capsys, "guidance must be a number from 1")  # fmt: skip


@pytest.mark.parametrize("option", ["--guidance-source", "--guidance"])
@pytest.mark.parametrize("guidance", ["inf", "nan", "0.5", "21"])
def test_dual_guidance_scales_out_of_range(workspace, capsys, option, guidance):  # noqa: F811
    name = option.removeprefix("--")
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4",
                        f"{option}={guidance}"], capsys, f"{name} must be a number from 1")  # fmt: skip


def test_the_removed_guidance_fused_flag_is_refused_before_any_work(workspace, capsys):  # noqa: F811
    # --guidance-fused is gone (--guidance is the fused embedding's scale): argparse refuses it, and nothing is written
    before = workspace.snapshot()
    with pytest.raises(SystemExit) as exit_info:
        main(["--checkpoint", str(workspace.checkpoint), *FAST, str(workspace.video), "--signer", str(workspace.signer),
              "-o", str(workspace.root / "out.mp4"), "--guidance-fused=2"])  # fmt: skip
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert err.strip().splitlines()[-1].startswith("python -m fpdm_video.transfer: error: unrecognized arguments: --guidance-fused"), err
    assert "Traceback" not in err
    assert workspace.snapshot() == before


@pytest.mark.parametrize("seed", [str(2**64), "-1"])
def test_seed_beyond_64_bits(workspace, capsys, seed):  # noqa: F811
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4", f"--seed={seed}"],
            capsys, "seed must be a whole number from 0 to 2**64 - 1")


def test_steps_beyond_the_schedule_before_any_work(workspace, capsys):  # noqa: F811
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4", "--steps", "5000"],
            capsys, "steps=5000 exceeds the model's 1000 training timesteps")


def test_a_record_that_cannot_be_written(workspace, capsys):  # noqa: F811
    (workspace.root / "out.json").mkdir()  # the record's name is taken by a folder
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4"], capsys,
            f"record {workspace.root / 'out.json'} is a folder")


def test_an_output_name_that_is_a_folder(workspace, capsys):  # noqa: F811
    (workspace.root / "taken.mp4").mkdir()
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "taken.mp4"], capsys,
            "is a folder; give a file name")


@pytest.mark.parametrize("place", ["/proc/out.mp4", "/sys/out.mp4", "/proc/self/new/out.mp4"])
def test_outputs_where_nothing_can_be_written(workspace, capsys, place):  # noqa: F811
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", place], capsys, "is not writable")


def test_an_output_under_a_regular_file(workspace, capsys):  # noqa: F811
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.video / "out.mp4"], capsys,
            "is a file, not a folder")


def test_a_signer_that_is_a_folder(workspace, capsys):  # noqa: F811
    refused(workspace, [workspace.video, "--signer", workspace.root / "in", "-o", workspace.root / "out.mp4"], capsys,
            "is a folder; give the path of a PNG or JPEG photo")


def _checkpoint_with(ws: Workspace, name: str, edit) -> Path:
    folder = ws.root / name
    folder.mkdir()
    (folder / "model.safetensors").write_bytes((ws.checkpoint / "model.safetensors").read_bytes())
    (folder / "config.yaml").write_text(edit((ws.checkpoint / "config.yaml").read_text()))
    return folder


@pytest.mark.parametrize(("value", "message"), [("0", "resolution must be a positive number of pixels"),
                                                ("-8", "resolution must be a positive number of pixels"),
                                                ("abc", "resolution must be a positive number of pixels"),
                                                ("16", "but the weights were saved at resolution 32"),
                                                ("64", "but the weights were saved at resolution 32")])  # fmt: skip
def test_a_checkpoint_config_at_odds_with_its_weights(workspace, capsys, value, message):  # noqa: F811
    bad = _checkpoint_with(workspace, "bad", lambda text: text.replace("resolution: 32", f"resolution: {value}", 1))
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4"], capsys, message,
            checkpoint=bad)


@pytest.mark.parametrize(("pose_map", "message"), [({"style": "openpose"}, "pose_map.style must be one of holistic, openpose18"),
                                                   ({"style": "openpose18", "draw_size": [0, 5]}, "pose_map.draw_size must be"),
                                                   ({"style": "wholebody133", "stick_width": 0}, "pose_map.stick_width must be")])  # fmt: skip
def test_a_checkpoint_config_with_a_bad_pose_map(workspace, capsys, pose_map, message):  # noqa: F811
    bad = _checkpoint_with(workspace, "bad", lambda text: yaml.safe_dump({**yaml.safe_load(text), "pose_map": pose_map}))
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4"], capsys, message,
            checkpoint=bad)


@pytest.mark.parametrize(("value", "latent"), [("64", 16), ("100", 25)])
def test_the_demo_model_at_another_resolution(workspace, capsys, value, latent):  # noqa: F811
    # the shipped weights carry no resolution in their metadata: the UNet's sample_size tells
    from pipelines.transfer import default_checkpoint

    demo = default_checkpoint()
    bad = workspace.root / "demo"
    bad.mkdir()
    (bad / "model.safetensors").symlink_to(demo / "model.safetensors")
    data = yaml.safe_load((demo / "config.yaml").read_text())
    (bad / "config.yaml").write_text(yaml.safe_dump({**data, "resolution": int(value)}, sort_keys=False))
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4"], capsys,
            f"resolution {value} gives {latent}-pixel latents, but the UNet was made for 32 (unet.kwargs.sample_size)",
            checkpoint=bad)


def test_a_checkpoint_config_that_is_not_yaml(workspace, capsys):  # noqa: F811
    bad = _checkpoint_with(workspace, "bad", lambda text: text + "\nresolution: [32\n")
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4"], capsys,
            "is not valid YAML at line", checkpoint=bad)


def test_a_checkpoint_config_whose_shapes_differ_from_its_weights(workspace, capsys):  # noqa: F811
    def wider_unet(text: str) -> str:
        data = yaml.safe_load(text)
        data["unet"]["kwargs"]["block_out_channels"] = [24, 32]  # the weights were saved with [16, 32]
        return yaml.safe_dump(data, sort_keys=False)

    bad = _checkpoint_with(workspace, "bad", wider_unet)
    refused(workspace, [workspace.video, "--signer", workspace.signer, "-o", workspace.root / "out.mp4"], capsys,
            "(set by unet.kwargs): the config gives", checkpoint=bad)
