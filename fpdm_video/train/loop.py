"""The training loop shared by all stages: plain PyTorch, resumable, DDP-ready.

AdamW with warmup, gradient accumulation, autocast (bf16/fp16 on CUDA), gradient clipping, optional
EMA, a CSV log, a tqdm bar, resumable checkpoints every ``checkpoint_every`` steps, and at the end a
checkpoint folder ``<run_dir>/<stage>/model`` that :func:`fpdm_video.models.checkpoint.load_model` loads (the whole
FPDM, with this stage's parts trained) plus ``summary.json``.

Exact resume: the data order is a pure function of (seed, epoch, rank) (:class:`ResumableSampler`),
every random draw of the loss goes through one generator whose state is saved, and dropout's global
RNG state is saved too, so a run stopped at a checkpoint and resumed logs the same losses as one that
never stopped (on the same device; tested on CPU).
"""

from __future__ import annotations

import contextlib
import json
import logging
import platform
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from fpdm_video.atomic import atomic_path
from fpdm_video.config import FPDMConfig, to_dict
from fpdm_video.data.triples import PoseTripleDataset, TripleConfig
from fpdm_video.errors import InputError
from fpdm_video.file_lock import file_lock
from fpdm_video.models.checkpoint import load_model
from fpdm_video.models.registry import build_model
from fpdm_video.train.config import TrainConfig
from fpdm_video.train.csv_log import CSVLog
from fpdm_video.train.ddp import DistInfo, barrier, init_distributed, mean_across, shutdown_distributed
from fpdm_video.train.ema import EMA
from fpdm_video.train.optim import build_optimizer
from fpdm_video.train.sampler import ResumableSampler
from fpdm_video.train.stage_base import Stage
from fpdm_video.train.stage_diffusion import DiffusionStage
from fpdm_video.train.stage_distill import DistillStage
from fpdm_video.train.stage_fusion import FusionStage
from fpdm_video.train.stage_tiny_decoder import TinyDecoderStage
from fpdm_video.train.stage_vae import VAEStage
from fpdm_video.train.state import LoopState, has_state, load_state, save_state

logger = logging.getLogger(__name__)
LOCK_NAME = ".training.lock"  # in the stage folder, held by the run writing it (never deleted: see fpdm_video.file_lock)

STAGES: dict[str, type[Stage]] = {"vae": VAEStage, "fusion": FusionStage, "diffusion": DiffusionStage, "distill": DistillStage,
                                   "tiny_decoder": TinyDecoderStage}  # fmt: skip


def pick_device(name: str, info: DistInfo) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise InputError("device cuda was asked for, but no CUDA device is available")
        return torch.device("cuda", info.local_rank)
    return torch.device("cpu")


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for fp32. CPU trains in fp32 under "auto"."""
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None
    if precision == "fp16":
        return torch.float16
    return torch.bfloat16


def make_dataset(config: TrainConfig, model_config: FPDMConfig, *, root: str | None = None, split: str | None = None,
                 pairs: int | None = None, seed: int | None = None) -> PoseTripleDataset:  # fmt: skip
    """Training triples on the model's canvas, with pose maps in its style."""
    data = config.data
    return PoseTripleDataset(
        TripleConfig(root=root or data.root, split=split or data.split, resolution=model_config.resolution,
                     pose_map=model_config.pose_map,
                     pairs=pairs or data.pairs, seed=data.seed if seed is None else seed, cache=data.cache)
    )  # fmt: skip


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def _fixed_batches(dataset, batch_size: int, count: int, device: torch.device) -> list[dict[str, torch.Tensor]]:
    """The first ``count`` batches of ``dataset`` in order (evaluation and end-of-stage work)."""
    n = min(len(dataset), batch_size * count)
    loader = DataLoader(torch.utils.data.Subset(dataset, range(n)), batch_size=batch_size, shuffle=False)
    return [_to(b, device) for b in loader]


def train(config: TrainConfig, *, resume: bool = True, progress: bool = True, stop_after: int | None = None) -> Path:
    """Run one stage; returns ``<run_dir>/<stage>``. ``stop_after`` ends early after that many steps (a pause)."""
    info = init_distributed("cuda" if config.device != "cpu" and torch.cuda.is_available() else "cpu")
    try:
        with contextlib.ExitStack() as held:
            return _train(config, info, held, resume=resume, progress=progress, stop_after=stop_after)
    finally:
        shutdown_distributed()


def hold_stage_folder(stage_dir: Path, held: contextlib.ExitStack) -> None:
    """Take the stage folder's lock until ``held`` closes, or refuse at once when another run holds it.

    Two runs writing one stage folder would interleave their saved states, logs and model folders.
    The lock is ``flock``'s (:mod:`fpdm_video.file_lock`): a run that dies, however it dies, leaves none held.
    """
    lock = stage_dir / LOCK_NAME
    if not held.enter_context(file_lock(lock, blocking=False)):
        raise InputError(f"another training run is writing into {stage_dir} (it holds {lock}); wait for it to end, "
                         "or give this run another run folder (-o / run_dir)")  # fmt: skip


def _train(config: TrainConfig, info: DistInfo, held: contextlib.ExitStack, *, resume: bool, progress: bool,
           stop_after: int | None) -> Path:  # fmt: skip
    device = pick_device(config.device, info)
    amp = autocast_dtype(config.precision, device)
    stage_dir = config.stage_dir
    torch.manual_seed(config.seed)  # the same initial weights on every rank
    model = load_model(config.init) if config.init else build_model(config.model, load_pretrained=True)
    stage = STAGES[config.stage](model, config).to(device)
    model = stage.model  # what the stage trains and saves (distillation: the student made from the loaded teacher)
    if info.is_main:  # only once the stage is built: a config that cannot build one leaves no empty folder behind
        stage_dir.mkdir(parents=True, exist_ok=True)
        hold_stage_folder(stage_dir, held)  # the main process writes the folder; the others only read it
    barrier(info)
    dataset = make_dataset(config, model.config)
    sampler = ResumableSampler(len(dataset), config.batch_size, seed=config.seed, rank=info.rank, world_size=info.world_size)
    optimizer, scheduler = build_optimizer(stage.param_groups(), config.optim, config.steps)
    ema = EMA(stage.named_trainable(), config.ema_decay) if config.ema_decay else None
    scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
    generator = torch.Generator(device).manual_seed(config.seed * 1009 + info.rank)
    torch.manual_seed(config.seed * 1009 + info.rank + 1)  # dropout inside the modules

    state_dir = stage_dir / "state"
    loop = LoopState()
    if resume and has_state(state_dir):
        loop, extra = load_state(state_dir, model, optimizer, scheduler, ema, scaler, generator)
        stage.load_extra_state(extra)
        logger.info("resumed %s at step %d from %s", config.stage, loop.step, state_dir)
    log = CSVLog(stage_dir / "log.csv")
    if info.is_main:
        if loop.step == 0 and log.path.exists():
            log.path.unlink()
            log = CSVLog(log.path)
        log.truncate_after(loop.step)

    wrapped: torch.nn.Module = stage
    if info.enabled:
        wrapped = torch.nn.parallel.DistributedDataParallel(
            stage, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=stage.has_unused_parameters
        )
    wrapped.train()

    params = [p for group in optimizer.param_groups for p in group["params"]]
    epoch, offset = divmod(loop.step * config.grad_accum, sampler.batches_per_epoch)
    last = min(config.steps, loop.step + stop_after) if stop_after else config.steps
    bar = tqdm(total=config.steps, initial=loop.step, desc=config.stage, unit="step", disable=not (progress and info.is_main))
    sums: dict[str, float] = {}
    count = 0
    micro = 0
    started = time.perf_counter()
    seconds_before = loop.seconds
    while loop.step < last:
        sampler.set_position(epoch, offset)
        loader = DataLoader(dataset, batch_size=config.batch_size, sampler=sampler, drop_last=True,
                            num_workers=config.data.num_workers, generator=torch.Generator().manual_seed(0),
                            pin_memory=device.type == "cuda")  # fmt: skip
        for batch in loader:
            micro += 1
            sync = micro == config.grad_accum
            no_sync = wrapped.no_sync() if info.enabled and not sync else contextlib.nullcontext()
            autocast = torch.autocast(device.type, dtype=amp) if amp is not None else contextlib.nullcontext()
            with no_sync, autocast:
                loss, metrics = wrapped(_to(batch, device), generator)
            loss = loss / config.grad_accum
            (scaler.scale(loss) if scaler is not None else loss).backward()
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + v
            count += 1
            if not sync:
                continue
            micro = 0
            if scaler is not None:
                scaler.unscale_(optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(params, config.optim.max_grad_norm or float("inf"))
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if ema is not None:
                ema.update()
            stage.after_step()
            loop.step += 1
            loop.seconds = seconds_before + time.perf_counter() - started
            bar.update(1)
            if loop.step % config.log_every == 0 or loop.step == config.steps:
                row = mean_across({k: v / count for k, v in sums.items()}, info, device)
                row["grad_norm"] = float(grad_norm)
                bar.set_postfix(loss=f"{row['loss']:.4f}")
                if info.is_main:
                    log.write({"step": loop.step, "lr": scheduler.get_last_lr()[-1], **row, "seconds": round(loop.seconds, 2)})
                sums, count = {}, 0
            if loop.step % config.checkpoint_every == 0 or loop.step == last:
                if info.is_main:
                    save_state(state_dir, model, optimizer, scheduler, ema, scaler, generator, loop, stage.extra_state())
                barrier(info)
            if loop.step >= last:
                break
        epoch, offset = epoch + 1, 0
    bar.close()
    if loop.step < config.steps:
        logger.info("paused %s at step %d of %d; run again to resume", config.stage, loop.step, config.steps)
        return stage_dir
    if info.is_main:
        _finish(config, stage, ema, device, loop)
    barrier(info)
    return stage_dir


def _finish(config: TrainConfig, stage: Stage, ema: EMA | None, device: torch.device, loop: LoopState) -> None:
    """Final weights (EMA if on), the stage's end work, evaluation, the model folder and summary.json."""
    if ema is not None:
        ema.copy_to_params()
    model = stage.model
    train_set = make_dataset(config, model.config, pairs=max(config.batch_size * 8, 64), seed=config.seed + 1)
    facts = stage.finish(_fixed_batches(train_set, config.batch_size, 8, device))
    evaluation: dict[str, float] = {}
    if config.eval_root and config.eval_pairs > 0:
        held_out = make_dataset(config, model.config, root=config.eval_root, split=config.eval_split,
                                pairs=config.eval_pairs, seed=12345)  # fmt: skip
        batches = _fixed_batches(held_out, config.batch_size, -(-config.eval_pairs // config.batch_size), device)
        evaluation = stage.evaluate(batches, torch.Generator(device).manual_seed(0))
    stage.export(config.stage_dir / "model")
    summary = {
        "stage": config.stage,
        "steps": loop.step,
        "train_seconds": round(loop.seconds, 1),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        "torch": torch.__version__,
        "facts": facts,
        "evaluation": evaluation,
        "config": to_dict(config),
    }
    with atomic_path(config.stage_dir / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    logger.info("%s done: %d steps in %.0f s; model in %s", config.stage, loop.step, loop.seconds, config.stage_dir / "model")
