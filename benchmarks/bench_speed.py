"""Sampling speed of each saving against the paper's sampler as main ran it (DDPM 20, g 2, three branches, fp32).

One run, one JSON, device named: every variant samples the same frames (real poses of
``example.pose`` drawn on the checkpoint's canvas, the shared reference photo, fixed noise) in the
same process, interleaved, and records frames/s, its ratio to the paper's three-branch baseline and,
for exact changes, the max abs difference of the frames (images in [0, 1]).

Every variant's settings are resolved as the transfer resolves them (``pipelines.settings.resolve_sampling``:
the options given here, over the ``--speed`` preset, over the checkpoint's own steps and guidance) and
recorded with its row (``settings``). Variants so far (``pipelines.settings.Reuse`` turns each exact
saving on or off):
- ``paper``: the paper's three UNet branches u, s, f and every row computed from scratch, as main
  sampled before these savings and as the official sampler does;
- each exact saving alone: ``two_branches`` (one scale: the s branch cancels), ``pose_feature``
  (each frame's pose embedding once for all steps), ``context_kv`` (cross-attention keys and values
  of the context once per video), ``shared_start`` (step 0's unconditioned branch once per chunk);
- ``exact``: all of them;
- ``exact_bf16``: all of them with the model in bfloat16 (``--bf16``); its PSNR against the fp32
  ``exact`` frames is recorded;
- ``deep_cache_2``, ``deep_cache_3``: all exact savings plus step feature caching (DeepCache: the whole
  UNet every 2nd / 3rd step, its shallow blocks in between), fp32; an approximation, so its PSNR
  against the ``exact`` frames is recorded beside the max abs difference;
- ``balanced`` and ``fast`` (``--presets``): the ``--speed`` presets with the exact savings, in bf16
  with ``--bf16``; their quality against ground truth is measured by ``pipelines.synthetic_eval``;
- ``turbo`` (``--student CKPT``): the few-step student of the checkpoint (``python -m fpdm_video.train
  distill``) with its own steps, scale and tiny decoder, fp32 (bf16 with ``--bf16``); ``turbo_vae``, when
  the student has a tiny decoder: the same with the VAE decoder (``--decoder vae``), to show what the tiny one saves;
- ``exact_compiled`` (``--compile``): all exact savings with the UNet through ``torch.compile``, fp32,
  measured after all the others (see ``compiled_rows``); its compilation time (the warm-up) is recorded apart;
- ``--variant NAME:FIELD=VALUE[,FIELD=VALUE...]`` (repeatable): the ``exact`` settings with those
  ``SamplingSettings`` fields replaced (VALUE read as an int, else a float, else a string), fp32,
  timed with the others; like the deep-cache variants, its speedup over ``exact`` and its PSNR and
  max abs difference against the ``exact`` frames are recorded. Fields are replaced as given, after
  resolution: ``speed=fast`` only renames the settings' preset (give its fields instead).

Then, unless ``--no-shares``, one profiled run more of ``paper``, ``exact`` (``--speed paper``) and each
preset measured gives the share of each stage of the frame's time (``stage_shares``: pose maps,
encoders, UNet, decoder, video encode, everything else), printed as a table and kept under
``stage_shares``.

    python benchmarks/bench_speed.py --threads 2
    python benchmarks/bench_speed.py --presets --student fpdm_video/weights/demo-turbo --out benchmarks/results/speed_turbo_demo_cpu.json
    python benchmarks/bench_speed.py --variant deep_cache_4:deep_cache=4 --variant g3:guidance=3.0
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch

from bench_sampler import device_name, git_commit
from fpdm_video.errors import InputError
from fpdm_video.geometry import CanvasFit
from fpdm_video.pose import load_holistic, render_pose_maps, style_for
from pipelines.settings import SPEED_PRESETS, Reuse, SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.transfer import default_checkpoint
from pipelines.transfer.devices import cpu_has_bf16
from pipelines.transfer.stages import source_tensor
from pipelines.video_sampling import sample_video
from result_file import check_result, write_result
from stage_shares import shares_table, stage_shares

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SETTINGS_FIELDS = tuple(f.name for f in fields(SamplingSettings) if f.name != "reuse")  # what --variant may replace


@dataclass(frozen=True)
class Inputs:
    """The frames every variant samples: the reference photo, the poses and their maps on the canvas."""

    source: torch.Tensor
    maps: torch.Tensor
    pose: object  # the holistic pose sequence the maps were drawn from
    fit: CanvasFit


def inputs(model, frames: int) -> Inputs:
    from PIL import Image

    pose = load_holistic(SHARED / "example.pose").frames(0, frames)
    fit = CanvasFit.of(pose.width, pose.height, model.config.resolution)
    maps = torch.from_numpy(render_pose_maps(pose, fit.canvas, fit=fit, style=style_for(model.config.pose_map)))
    photo = np.asarray(Image.open(SHARED / "fake_human.png").convert("RGB"))
    return Inputs(source_tensor(photo, CanvasFit.of(photo.shape[1], photo.shape[0], model.config.resolution)), maps, pose, fit)


@dataclass(frozen=True)
class Variant:
    model: object
    settings: SamplingSettings


def run_variant(v: Variant, source, maps, args) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    frames = torch.cat(list(sample_video(v.model, source, maps, v.settings, progress=False)))
    return time.perf_counter() - start, frames.float()


def parse_value(text: str) -> int | float | str:
    """A ``--variant`` value: an int, else a float, else the string itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_variant(text: str) -> tuple[str, dict[str, int | float | str]]:
    """``NAME:FIELD=VALUE[,FIELD=VALUE...]`` -> (NAME, {FIELD: VALUE}); what is malformed is an argparse error."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip() or not rest.strip():
        raise argparse.ArgumentTypeError(f"expected NAME:FIELD=VALUE[,FIELD=VALUE...], got {text!r}")
    changes: dict[str, int | float | str] = {}
    for item in rest.split(","):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise argparse.ArgumentTypeError(f"expected FIELD=VALUE in {text!r}, got {item!r}")
        if key not in SETTINGS_FIELDS:
            raise argparse.ArgumentTypeError(f"{key!r} in {text!r} is not a sampling settings field --variant can set; "
                                             f"fields: {', '.join(SETTINGS_FIELDS)}")  # fmt: skip
        changes[key] = parse_value(value.strip())
    return name.strip(), changes


def custom_settings(name: str, exact: SamplingSettings, changes: dict) -> SamplingSettings:
    """The ``exact`` settings with ``changes`` (a ``--variant``), or a one-line SystemExit naming what is wrong."""
    try:
        return replace(exact, **changes)
    except TypeError as exc:  # a field SamplingSettings does not have
        unknown = ", ".join(repr(k) for k in changes if k not in {f.name for f in fields(SamplingSettings)}) or str(exc)
        fields_text = ", ".join(SETTINGS_FIELDS)
        raise SystemExit(f"error: --variant {name}: SamplingSettings has no field {unknown}; fields: {fields_text}") from None
    except InputError as exc:  # a value its own check refuses
        raise SystemExit(f"error: --variant {name}: {' '.join(str(exc).split())}") from None


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def request_of(args, **given) -> SamplingRequest:
    """The sampling options this benchmark was given (None: the preset's, then the checkpoint's), with ``given``.

    Cross-frame attention is off: ``paper`` is the paper's sampler (``--speed paper --temporal-attention off``),
    the baseline every stored result of this benchmark was measured against (docs/speed.md)."""
    return SamplingRequest(steps=args.steps, guidance=args.guidance, batch_size=args.batch_size, seed=0,
                           **{"temporal_attention": "off", **given})


def variants_of(model, args, student=None) -> dict[str, Variant]:
    config = model.config
    none = asdict(Reuse.none())
    out = {"paper": Variant(model, resolve_sampling(request_of(args), config, reuse=Reuse.none()))}
    out.update({name: Variant(model, resolve_sampling(request_of(args), config, reuse=Reuse(**{**none, name: True}))) for name in none})
    out["exact"] = Variant(model, resolve_sampling(request_of(args), config))
    for n in (2, 3):
        out[f"deep_cache_{n}"] = Variant(model, resolve_sampling(request_of(args, deep_cache=n), config))
    fast_model = copy.deepcopy(model).to(torch.bfloat16) if args.bf16 else model
    if args.bf16:
        out["exact_bf16"] = Variant(fast_model, out["exact"].settings)
    if args.presets:  # the presets as the transfer runs them: with --bf16, in bf16 (what --dtype auto picks on such CPUs)
        for name in ("balanced", "fast"):
            out[name] = Variant(fast_model, resolve_sampling(request_of(args, speed=name), config))
    if student is not None:  # the student's own steps and scale, whatever --steps and --guidance say
        fast_student = copy.deepcopy(student).to(torch.bfloat16) if args.bf16 else student
        out["turbo"] = Variant(fast_student, resolve_sampling(SamplingRequest(speed="turbo", batch_size=args.batch_size, seed=0),
                                                              student.config))  # fmt: skip
        if student.tiny_decoder is not None:  # the same student through the VAE decoder: what the tiny decoder saves
            out["turbo_vae"] = Variant(fast_student, resolve_sampling(
                SamplingRequest(speed="turbo", batch_size=args.batch_size, seed=0, decoder="vae"), student.config))  # fmt: skip
    for name, changes in args.variant:  # the exact settings with some fields replaced, fp32
        out[name] = Variant(model, custom_settings(name, out["exact"].settings, changes))
    return out


def compiled_rows(model, source, maps, args, paper_seconds: float, exact_frames: torch.Tensor) -> dict:
    """``exact_compiled``: timed after every other variant, interleaved with eager ``exact`` runs of its own.

    Once dynamo has run in a process, eager runs there are not quite the same as before (their
    rounding changed here), so the compiled model is measured last and the eager variants' figures
    are all taken before it.
    """
    compiled = copy.deepcopy(model)
    compiled.denoiser.unet = torch.compile(compiled.denoiser.unet)
    settings = resolve_sampling(request_of(args), model.config)
    eager_v, compiled_v = Variant(model, settings), Variant(compiled, settings)
    warm_up = run_variant(compiled_v, source, maps[: args.batch_size], args)[0]
    eager, timed = [], []
    for _ in range(args.repeats):
        eager.append(run_variant(eager_v, source, maps, args)[0])
        seconds, frames = run_variant(compiled_v, source, maps, args)
        timed.append(seconds)
    return {"seconds_min": min(timed), "seconds_median": float(np.median(timed)), "seconds_max": max(timed),
            "frames_per_second": args.frames / min(timed), "speedup_vs_paper": paper_seconds / min(timed),
            "speedup_vs_exact_interleaved": min(eager) / min(timed), "exact_seconds_interleaved": min(eager),
            "warm_up_seconds_with_compilation": warm_up,
            "max_abs_difference_vs_fp32_exact": float((frames - exact_frames).abs().max()), "settings": asdict(settings)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, help="default: the embedded demo model")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--steps", type=int, help="denoising steps of every variant, the presets' too (default: the preset's, else "
                                               "the checkpoint's, 20)")
    p.add_argument("--guidance", type=float, help="guidance scale (default: the checkpoint's, 2)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true", help="also the exact savings with the model in bfloat16")
    p.add_argument("--presets", action="store_true", help="also the balanced and fast presets (their quality: docs/speed.md)")
    p.add_argument("--compile", action="store_true", help="also the exact savings with the UNet through torch.compile")
    p.add_argument("--student", type=Path, help="also turbo: this few-step student of --checkpoint (its own steps, scale, decoder)")
    p.add_argument("--no-shares", action="store_true", help="skip the profiled runs that give each stage's share of the time")
    p.add_argument("--variant", type=parse_variant, action="append", default=[], metavar="NAME:FIELD=VALUE[,FIELD=VALUE...]",
                   help="also the exact settings with these SamplingSettings fields replaced (VALUE: int, else float, else "
                        "string), timed and compared with exact like the deep-cache variants; repeatable, e.g. "
                        "--variant token_merge_0.3:token_merge=0.3")  # fmt: skip
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    builtin = {"paper", *asdict(Reuse.none()), "exact", "deep_cache_2", "deep_cache_3", "exact_bf16", "balanced", "fast", "turbo",
               "turbo_vae", "exact_compiled"}  # fmt: skip
    names = [name for name, _ in args.variant]
    for name in names:
        if name in builtin:
            p.error(f"--variant {name}: the name of a built-in variant ({', '.join(sorted(builtin))}); choose another")
        if names.count(name) > 1:
            p.error(f"--variant {name}: given more than once; each variant needs its own name")
    if not SHARED.is_dir():
        print(f"error: the shared real data is not at {SHARED}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    from fpdm_video.models.checkpoint import load_model

    checkpoint = args.checkpoint or default_checkpoint()
    out = check_result(args.out or RESULTS_DIR / "speed_demo_cpu.json", {"--checkpoint": checkpoint, "--student": args.student})
    model = load_model(checkpoint).eval()
    student = load_model(args.student).eval() if args.student else None
    if student is not None and (student.config.student is None or student.canvas != model.canvas):
        raise InputError(f"--student {args.student} is not a few-step student on {checkpoint}'s canvas; make one with "
                         f"python -m fpdm_video.train distill --teacher {checkpoint}")  # fmt: skip
    frames_in = inputs(model, args.frames)
    source, maps = frames_in.source, frames_in.maps
    variants = variants_of(model, args, student)
    times = {name: [] for name in variants}
    outputs = {}
    for name, v in variants.items():  # warm-up, one chunk each
        run_variant(v, source, maps[: args.batch_size], args)
    for _ in range(args.repeats):  # interleaved, so drifts of the machine hit every variant alike
        for name, v in variants.items():
            seconds, frames = run_variant(v, source, maps, args)
            times[name].append(seconds)
            outputs[name] = frames
    base = min(times["paper"])
    custom = {name for name, _ in args.variant}
    rows = {}
    for name, t in times.items():
        row = {"seconds_min": min(t), "seconds_median": float(np.median(t)), "seconds_max": max(t),
               "frames_per_second": args.frames / min(t), "speedup_vs_paper": base / min(t)}  # fmt: skip
        if name in ("balanced", "fast"):
            row["preset"] = dict(SPEED_PRESETS[name]) | {"dtype": "bf16" if args.bf16 else "fp32"}
        elif name in ("turbo", "turbo_vae"):
            row["preset"] = dict(SPEED_PRESETS["turbo"]) | {"dtype": "bf16" if args.bf16 else "fp32", "student": Path(str(args.student)).name,
                                                           "decoder": variants[name].settings.decoder}  # fmt: skip
            row["speedup_vs_exact"] = min(times["exact"]) / min(t)
        elif name.startswith("deep_cache") or name in custom:
            row["psnr_vs_fp32_exact_db"] = psnr(outputs[name], outputs["exact"])
            row["max_abs_difference_vs_fp32_exact"] = float((outputs[name] - outputs["exact"]).abs().max())
            row["speedup_vs_exact"] = min(times["exact"]) / min(t)
        elif name.endswith("bf16"):
            row["psnr_vs_fp32_exact_db"] = psnr(outputs[name], outputs["exact"])
            row["max_abs_difference_vs_fp32_exact"] = float((outputs[name] - outputs["exact"]).abs().max())
        else:
            row["max_abs_difference_vs_paper"] = float((outputs[name] - outputs["paper"]).abs().max())
        if name in custom:
            row["replaced"] = dict(dict(args.variant)[name])
        row["settings"] = asdict(variants[name].settings)
        rows[name] = row
    exact = variants["exact"].settings
    shares = {}
    if not args.no_shares:
        style = style_for(model.config.pose_map)
        for name in ("paper", "exact", "balanced", "fast", "turbo", "turbo_vae"):
            if name in variants:
                v = variants[name]
                shares[name] = stage_shares(v.model, v.settings, source, frames_in.pose, frames_in.fit, style)
    if args.compile:
        rows["exact_compiled"] = compiled_rows(model, source, maps, args, base, outputs["exact"])
    result = {
        "what": "frames/s of each sampling saving against the paper's sampler (three branches, nothing reused), same frames, one process",
        "device": device_name(torch.device("cpu")), "cpu_bf16": cpu_has_bf16(), "threads": args.threads, "commit": git_commit(),
        "checkpoint": Path(str(checkpoint)).name, "frames": args.frames, "steps": exact.steps, "guidance": exact.guidance,
        "batch_size": args.batch_size, "repeats": args.repeats, "variants": rows, "stage_shares": shares,
    }  # fmt: skip
    write_result(out, result)
    print(json.dumps(result["variants"], indent=2))
    if shares:
        print("share of each stage of the frame's time (one profiled run each; exact is --speed paper):")
        print(shares_table(shares))
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
