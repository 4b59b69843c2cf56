"""Latent consistency distillation and the tiny decoder, at tiny sizes on CPU."""

from __future__ import annotations

import pytest
import torch

from fpdm_video.errors import InputError
from fpdm_video.models.checkpoint import checkpoint_hash, load_model, save_model
from fpdm_video.models.denoiser import RowConditions
from fpdm_video.models.registry import build_model
from fpdm_video.train.csv_log import read_log
from fpdm_video.train.loop import train

from factories_train import tiny_config, tiny_dataset  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    torch.manual_seed(0)
    model = build_model("tiny")
    return save_model(model, tmp_path_factory.mktemp("teacher") / "tiny")


def _refused_in_one_line(stage: str, section: str, teacher, data_root, tmp_path, capsys, *words: str) -> None:
    """``train STAGE`` with a config of ``section`` (its YAML body) exits 2 with one error line holding ``words``,
    and leaves no stage folder."""
    from fpdm_video.train.__main__ import main

    config = tmp_path / "c.yaml"
    config.write_text(f"model: tiny\ndata: {{root: {data_root}}}\n{stage}:\n{section}\n")
    assert main([stage.replace("_", "-"), "--config", str(config), "--teacher", str(teacher), "-o", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and all(w in err[0] for w in words), err
    assert not (tmp_path / "run" / stage).exists()  # nothing half-made: not even an empty stage folder


def _rows(model, b: int, guidance=None):
    g = torch.Generator().manual_seed(1)
    ctx = torch.randn(b, 4, model.denoiser.unet.config.cross_attention_dim, generator=g)
    fused = torch.randn(b, model.fusion.dim, generator=g)
    pose = torch.rand(b, 3, *reversed(model.canvas), generator=g)
    return RowConditions(ctx, fused, pose_map=pose, guidance=guidance)


def test_a_new_student_is_its_teacher_s_full_branch_and_its_guidance_input_reaches_the_unet(teacher):
    from fpdm_video.config import StudentConfig
    from fpdm_video.models.student import COND_PROJ, student_from_teacher

    t = load_model(teacher)
    s = student_from_teacher(t, StudentConfig(teacher={"name": "tiny"})).eval()
    x = torch.randn(2, t.latent_channels, *t.latent_hw, generator=torch.Generator().manual_seed(2))
    steps = torch.tensor([10, 500])
    with torch.no_grad():
        plain = t.denoise(x, steps, _rows(t, 2))
        assert torch.equal(s.denoise(x, steps, _rows(s, 2, torch.tensor([2.0, 3.0]))), plain)  # the map starts at zero
        s.state_dict()[COND_PROJ].normal_(0, 0.1)  # once trained, the scale changes the prediction
        at_2 = s.denoise(x, steps, _rows(s, 2, torch.tensor([2.0, 2.0])))
        at_3 = s.denoise(x, steps, _rows(s, 2, torch.tensor([3.0, 3.0])))
    assert not torch.allclose(at_2, at_3)
    assert s.config.unet.kwargs["time_cond_proj_dim"] == 256 and s.config.student.teacher == {"name": "tiny"}


def test_two_distillation_steps_change_the_student_and_record_the_teacher(teacher, tiny_dataset, tmp_path):  # noqa: F811
    config = tiny_config("distill", tiny_dataset, tmp_path, "steps=2", f"init={teacher}")
    train(config, progress=False)
    student = load_model(tmp_path / "distill" / "model")
    before = load_model(teacher)
    changed = [k for k, v in before.state_dict().items() if k.startswith("denoiser.") and not torch.equal(v, student.state_dict()[k])]
    assert changed, "the student's denoiser did not move"
    assert all(torch.equal(v, student.state_dict()[k]) for k, v in before.state_dict().items() if not k.startswith("denoiser."))
    assert student.config.student.teacher == {"path": str(teacher), "name": "tiny", "sha256": checkpoint_hash(teacher)}
    assert student.config.student.steps == 2 and student.config.student.teacher_steps == 10
    rows = read_log(tmp_path / "distill" / "log.csv")
    assert [r["step"] for r in rows] == [1, 2] and all(r["loss"] > 0 for r in rows)


def test_the_student_trains_without_dropout_so_it_sees_the_teacher_s_conditions(teacher):
    from fpdm_video.train.config import load_train_config
    from fpdm_video.train.stage_distill import DistillStage
    from factories_train import TINY_YAML

    stage = DistillStage(load_model(teacher), load_train_config(TINY_YAML, "distill", [f"init={teacher}"]))
    stage.train()
    dropouts = [m for m in stage.model.denoiser.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropouts and not any(m.training for m in dropouts)  # the source projection has dropout; it stays off
    assert stage.model.denoiser.training  # the rest of the student trains


def test_the_ground_truth_term_adds_its_weighted_distance_to_the_same_consistency_loss(teacher, tiny_dataset, tmp_path):  # noqa: F811
    from fpdm_video.train.loop import _fixed_batches, make_dataset
    from fpdm_video.train.stage_distill import DistillStage

    def stage_loss(weight: float, min_t: int = 0):
        config = tiny_config("distill", tiny_dataset, tmp_path, f"init={teacher}", f"distill.data_weight={weight}",
                             f"distill.data_min_t={min_t}")  # fmt: skip
        torch.manual_seed(0)
        stage = DistillStage(load_model(teacher), config).train()
        batch = _fixed_batches(make_dataset(config, stage.model.config), 8, 1, torch.device("cpu"))[0]
        return stage(batch, torch.Generator().manual_seed(5))

    plain, plain_metrics = stage_loss(0.0)
    mixed, metrics = stage_loss(0.5)
    assert set(plain_metrics) == {"loss"} and {"consistency", "data"} <= set(metrics)
    assert metrics["consistency"] == pytest.approx(plain.item(), rel=1e-5)  # the term draws nothing: the same x_t, g, target
    assert metrics["data"] > 0 and mixed.item() == pytest.approx(plain.item() + 0.5 * metrics["data"], rel=1e-5)
    none, nothing_above = stage_loss(0.5, min_t=1000)  # no grid point is at or above it: the term is 0
    assert nothing_above["data"] == 0 and none.item() == pytest.approx(plain.item(), rel=1e-5)
    _, some = stage_loss(0.5, min_t=500)  # the same draws: only the samples of the upper half count
    assert 0 < some["data"] < metrics["data"]


@pytest.mark.parametrize("setting", ["data_weight=-0.1", "data_weight=true", "data_weight=nan", "data_min_t=-1", "data_min_t=0.5"])
def test_a_ground_truth_setting_that_is_not_a_number_of_at_least_zero_is_refused(tiny_dataset, tmp_path, setting):  # noqa: F811
    with pytest.raises(InputError, match=f"distill.{setting.split('=')[0]}"):
        tiny_config("distill", tiny_dataset, tmp_path, "init=x", f"distill.{setting}")


def test_a_resumed_distillation_ends_where_an_uninterrupted_one_does(teacher, tiny_dataset, tmp_path):  # noqa: F811
    extra = ("steps=6", "data.pairs=16", "checkpoint_every=2", f"init={teacher}")
    straight = tiny_config("distill", tiny_dataset, tmp_path / "straight", *extra)
    train(straight, progress=False)
    paused = tiny_config("distill", tiny_dataset, tmp_path / "paused", *extra)
    train(paused, progress=False, stop_after=3)
    train(paused, progress=False)
    a, b = read_log(tmp_path / "straight" / "distill" / "log.csv"), read_log(tmp_path / "paused" / "distill" / "log.csv")
    assert [r["loss"] for r in a] == [r["loss"] for r in b]  # the target network was saved and restored with the state
    sa = load_model(tmp_path / "straight" / "distill" / "model").state_dict()
    sb = load_model(tmp_path / "paused" / "distill" / "model").state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_distillation_continued_from_a_student_starts_from_its_denoiser(teacher, tiny_dataset, tmp_path):  # noqa: F811
    from fpdm_video.train.config import load_train_config
    from fpdm_video.train.stage_distill import DistillStage
    from factories_train import TINY_YAML

    first = tiny_config("distill", tiny_dataset, tmp_path / "first", "steps=2", f"init={teacher}")
    train(first, progress=False)
    earlier = load_model(tmp_path / "first" / "distill" / "model")
    config = load_train_config(TINY_YAML, "distill", [f"init={teacher}", f"distill.student_init={tmp_path / 'first' / 'distill' / 'model'}"])
    stage = DistillStage(load_model(teacher), config)
    fresh = DistillStage(load_model(teacher), load_train_config(TINY_YAML, "distill", [f"init={teacher}"]))
    for name in ("model", "fresh"):
        state = (stage if name == "model" else fresh).model.denoiser.state_dict()
        same = all(torch.equal(v, earlier.denoiser.state_dict()[k]) for k, v in state.items())
        assert same == (name == "model")  # continued: the earlier student's weights; fresh: the teacher's
    assert all(torch.equal(v, stage.model.denoiser.state_dict()[k]) for k, v in stage.target.state_dict().items())


@pytest.mark.parametrize("given", ["teacher", "other_teacher", "missing", "with_lora"])
def test_continuing_from_what_is_not_a_student_of_this_teacher_is_one_error_line(teacher, tiny_dataset, tmp_path, capsys, given):  # noqa: F811
    if given == "teacher":
        path, message = teacher, "is not a few-step student"
    elif given == "missing":
        path, message = tmp_path / "no-such-student", "does not exist"
    elif given == "with_lora":  # refused by the config check, before any model is read
        path, message = tmp_path / "no-such-student", "cannot be combined with distill.lora_rank"
    else:  # a student of another tiny teacher (other weights, so another hash)
        torch.manual_seed(7)
        other = save_model(build_model("tiny"), tmp_path / "other")
        train(tiny_config("distill", tiny_dataset, tmp_path / "o", "steps=1", f"init={other}"), progress=False)
        path, message = tmp_path / "o" / "distill" / "model", "distilled from another teacher"
    lora = ", lora_rank: 4" if given == "with_lora" else ""
    _refused_in_one_line("distill", f"  steps: 1\n  distill: {{student_init: {path}{lora}}}", teacher, tiny_dataset, tmp_path, capsys,
                         message, "student_init")  # fmt: skip


def test_a_student_to_continue_inside_the_run_folder_is_refused_and_left_as_it_was(teacher, tiny_dataset, tmp_path, capsys):  # noqa: F811
    from fpdm_video.train.__main__ import main

    train(tiny_config("distill", tiny_dataset, tmp_path / "run", "steps=1", f"init={teacher}"), progress=False)
    student = tmp_path / "run" / "distill" / "model"
    before = {p.name: p.read_bytes() for p in student.iterdir()}
    config = tmp_path / "c.yaml"
    config.write_text(f"model: tiny\ndata: {{root: {tiny_dataset}}}\ndistill:\n  steps: 2\n  distill: {{student_init: {student}}}\n")
    assert main(["distill", "--config", str(config), "--teacher", str(teacher), "-o", str(tmp_path / "run"), "--restart"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "distill.student_init" in err[0] and "contains the input" in err[0]
    assert {p.name: p.read_bytes() for p in student.iterdir()} == before


def test_the_tiny_decoder_trains_loads_and_decodes(teacher, tiny_dataset, tmp_path):  # noqa: F811
    config = tiny_config("tiny_decoder", tiny_dataset, tmp_path, "steps=4", f"init={teacher}")
    train(config, progress=False)
    model = load_model(tmp_path / "tiny_decoder" / "model")
    base = load_model(teacher)
    assert model.config.tiny_decoder is not None and model.tiny_decoder is not None
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in base.state_dict().items())  # nothing else changed
    losses = [r["loss"] for r in read_log(tmp_path / "tiny_decoder" / "log.csv")]
    assert losses[-1] < losses[0]
    latents = torch.randn(2, model.latent_channels, *model.latent_hw)
    with torch.no_grad():
        tiny, vae = model.decode_latents(latents, "tiny"), model.decode_latents(latents)
    assert tiny.shape == vae.shape and 0 <= tiny.min() and tiny.max() <= 1
    with pytest.raises(ValueError, match="no tiny decoder"):
        base.decode_latents(latents, "tiny")


def test_the_tiny_decoder_layout_per_level_is_trained_and_saved(teacher, tiny_dataset, tmp_path):  # noqa: F811
    config = tiny_config("tiny_decoder", tiny_dataset, tmp_path, "steps=2", f"init={teacher}", "tiny_decoder.widths=[12,6]",
                         "tiny_decoder.level_blocks=[2,0]", "tiny_decoder.clamp=8.0")  # fmt: skip
    train(config, progress=False)
    model = load_model(tmp_path / "tiny_decoder" / "model")
    layout = model.config.tiny_decoder
    assert (layout.widths, layout.level_blocks, layout.clamp) == ((12, 6), (2, 0), 8.0)
    assert model.tiny_decoder.layers[0].out_channels == 12 and model.tiny_decoder.clamp == 8.0


def test_a_tiny_decoder_goes_on_from_the_checkpoints_own(teacher, tiny_dataset, tmp_path):  # noqa: F811
    train(tiny_config("tiny_decoder", tiny_dataset, tmp_path / "first", "steps=2", f"init={teacher}"), progress=False)
    first = tmp_path / "first" / "tiny_decoder" / "model"
    decoder = load_model(first).tiny_decoder.state_dict()
    for start in ("true", "false"):  # at lr 0 the trained decoder is the one it started from
        run = tmp_path / f"again-{start}"
        train(tiny_config("tiny_decoder", tiny_dataset, run, "steps=1", f"init={first}", "optim.lr=0.0",
                          f"tiny_decoder.from_checkpoint={start}"), progress=False)  # fmt: skip
        again = load_model(run / "tiny_decoder" / "model").tiny_decoder.state_dict()
        assert all(torch.equal(v, again[k]) for k, v in decoder.items()) == (start == "true")


def test_a_nearest_tiny_decoder_goes_on_in_its_subpixel_form(teacher, tiny_dataset, tmp_path):  # noqa: F811
    train(tiny_config("tiny_decoder", tiny_dataset, tmp_path / "first", "steps=2", f"init={teacher}"), progress=False)
    first = tmp_path / "first" / "tiny_decoder" / "model"
    train(tiny_config("tiny_decoder", tiny_dataset, tmp_path / "sub", "steps=1", f"init={first}", "optim.lr=0.0",
                      "tiny_decoder.from_checkpoint=true", "tiny_decoder.upsample=subpixel"), progress=False)  # fmt: skip
    converted = tmp_path / "sub" / "tiny_decoder" / "model"
    nearest, subpixel = load_model(first), load_model(converted)
    assert (nearest.config.tiny_decoder.upsample, subpixel.config.tiny_decoder.upsample) == ("nearest", "subpixel")
    latents = torch.randn(2, nearest.latent_channels, *nearest.latent_hw) * 3
    with torch.no_grad():  # at lr 0, the converted decoder as it started: the same images
        torch.testing.assert_close(subpixel.decode_latents(latents, "tiny"), nearest.decode_latents(latents, "tiny"),
                                   atol=1e-5, rtol=0)  # fmt: skip
    with pytest.raises(InputError, match="another layout: upsample subpixel"):  # and no way back
        train(tiny_config("tiny_decoder", tiny_dataset, tmp_path / "back", "steps=1", f"init={converted}",
                          "tiny_decoder.from_checkpoint=true"), progress=False)  # fmt: skip


@pytest.mark.parametrize("given", ["no_decoder", "other_layout"])
def test_going_on_from_a_tiny_decoder_that_is_not_there_is_one_error_line(teacher, tiny_dataset, tmp_path, capsys, given):  # noqa: F811
    init, message = teacher, "has no tiny decoder"
    if given == "other_layout":
        train(tiny_config("tiny_decoder", tiny_dataset, tmp_path / "first", "steps=1", f"init={teacher}"), progress=False)
        init, message = tmp_path / "first" / "tiny_decoder" / "model", "another layout"
    blocks = ", blocks: 2" if given == "other_layout" else ""
    _refused_in_one_line("tiny_decoder", f"  tiny_decoder: {{from_checkpoint: true{blocks}}}", init, tiny_dataset, tmp_path, capsys,
                         message, "from_checkpoint")  # fmt: skip


@pytest.mark.parametrize("weights", [["tiny_decoder.l1_weight=-1.0"], ["tiny_decoder.l1_weight=0.0", "tiny_decoder.mse_weight=0.0"]])
def test_tiny_decoder_loss_weights_below_zero_or_all_zero_are_refused(tiny_dataset, tmp_path, weights):  # noqa: F811
    with pytest.raises(InputError, match="tiny_decoder loss weights"):
        tiny_config("tiny_decoder", tiny_dataset, tmp_path, "init=x", *weights)


def test_distill_and_tiny_decoder_need_a_teacher(tiny_dataset, tmp_path, capsys):  # noqa: F811
    from fpdm_video.train.__main__ import main

    config = tmp_path / "c.yaml"
    config.write_text(f"model: tiny\ndata: {{root: {tiny_dataset}}}\n")
    assert main(["distill", "--config", str(config), "-o", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--teacher" in err[0]


@pytest.mark.parametrize(("layout", "message"), [("widths: [16, 8, 8]", "widths needs 2 entries"),
                                               ("clamp: -1.0", "clamp must be positive")])  # fmt: skip
def test_a_tiny_decoder_layout_that_does_not_fit_is_one_error_line(teacher, tiny_dataset, tmp_path, capsys, layout, message):  # noqa: F811
    _refused_in_one_line("tiny_decoder", f"  tiny_decoder: {{{layout}}}", teacher, tiny_dataset, tmp_path, capsys, message,
                         "tiny_decoder section")  # fmt: skip


def test_an_unknown_tiny_decoder_upsampling_is_one_error_line(teacher, tiny_dataset, tmp_path, capsys):  # noqa: F811
    _refused_in_one_line("tiny_decoder", "  tiny_decoder: {upsample: bilinear}", teacher, tiny_dataset, tmp_path, capsys,
                         "upsample", "nearest", "subpixel")  # fmt: skip


def test_the_lora_student_saves_only_its_adapter_and_loads_onto_its_teacher(teacher, tiny_dataset, tmp_path):  # noqa: F811
    from safetensors.torch import load_file

    from fpdm_video.errors import CheckpointError
    from fpdm_video.models.student import COND_PROJ
    from fpdm_video.models.checkpoint import ADAPTER_NAME

    config = tiny_config("distill", tiny_dataset, tmp_path, "steps=3", f"init={teacher}", "distill.lora_rank=2",
                         "checkpoint_every=2")  # fmt: skip
    train(config, progress=False, stop_after=2)
    train(config, progress=False)  # resumed from the state at step 2
    folder = tmp_path / "distill" / "model"
    assert sorted(p.name for p in folder.iterdir()) == ["adapter.safetensors", "config.yaml"]
    adapter = load_file(str(folder / ADAPTER_NAME))
    assert COND_PROJ in adapter and all("lora_" in k for k in adapter if k != COND_PROJ)
    assert any(float(v.abs().max()) > 0 for k, v in adapter.items() if "lora_B" in k)  # the adapters moved from zero
    size = sum(v.numel() for v in adapter.values())
    whole = sum(v.numel() for v in load_model(teacher).state_dict().values())
    assert size < 0.2 * whole

    student, plain_teacher = load_model(folder), load_model(teacher)
    assert student.config.student.lora["rank"] == 2 and not any("lora_" in k for k in student.state_dict())
    # everything but the UNet is the teacher's own; the UNet is the teacher's plus the merged adapters
    assert all(torch.equal(v, student.state_dict()[k]) for k, v in plain_teacher.state_dict().items() if not k.startswith("denoiser.unet."))
    moved = [k for k, v in plain_teacher.state_dict().items() if k.startswith("denoiser.unet.") and not torch.equal(v, student.state_dict()[k])]
    assert moved
    # the merged student predicts what the adapter-carrying one does
    from fpdm_video.models.student_lora import add_lora

    carried = type(student)(student.config, load_pretrained=False)
    carried.load_state_dict(plain_teacher.state_dict(), strict=False)
    add_lora(carried, student.config.student.lora)
    carried.load_state_dict(adapter, strict=False)
    x = torch.randn(2, student.latent_channels, *student.latent_hw, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        a = student.denoise(x, torch.tensor([999, 499]), _rows(student, 2, torch.tensor([2.0, 2.5])))
        b = carried.eval().denoise(x, torch.tensor([999, 499]), _rows(student, 2, torch.tensor([2.0, 2.5])))
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)

    merged = save_model(student, tmp_path / "merged")  # saved whole (as a later stage saves it), it loads as any checkpoint
    assert (merged / "model.safetensors").is_file() and load_model(merged).config.student.lora["rank"] == 2

    save_model(build_model("tiny"), teacher.parent / "other")  # a teacher folder that now holds other weights is refused
    import yaml

    text = yaml.safe_load((folder / "config.yaml").read_text())
    text["student"]["teacher"]["path"] = str(teacher.parent / "other")
    (folder / "config.yaml").write_text(yaml.safe_dump(text))
    with pytest.raises(CheckpointError, match="other weights"):
        load_model(folder)
