"""Latent consistency distillation of a trained FPDM into a few-step student (Luo et al. 2023, Alg. 1).

The teacher is the checkpoint's own guided sampler: FPDM's exact two-branch rule
ε̂ = ε_u + g (ε_f - ε_u) (:mod:`pipelines.guidance` says why it equals the paper's three branches at
one scale; the same rule, :func:`fpdm_video.models.guidance_rule.two_branch`) and a deterministic DDIM
step over a skipping grid of ``teacher_steps`` points (:func:`fpdm_video.models.consistency.teacher_grid`),
in the teacher's own parameterisation (ε or v, zero terminal SNR or not: ᾱ comes from its schedule).

Per micro-batch: target frames -> VAE posterior -> x_0; a grid point t_n and its predecessor
s = t_n - T/N (s < 0: the clean end); x_t = q(x_t | x_0); a guidance scale g ~ U(guidance_range).
- the student (initialised from the teacher, :func:`fpdm_video.models.student.student_from_teacher`)
  is told g by its embedding and gives f_θ(x_t, t, g) in one UNet row;
- the teacher's two rows (u: no condition, f: all three) at x_t give the guided prediction, and one
  DDIM step takes x_t to x̂_s;
- the target network (an EMA of the student, decay ``target_decay``, updated after every optimiser
  step) gives f_θ⁻(x̂_s, s, g), which is x̂_s itself at the clean end;
- loss: the pseudo-Huber distance sqrt((f_θ - f_θ⁻)² + c²) - c, c = ``huber_c`` (LCM's 0.001);
  with ``data_weight`` w > 0, plus w times the same distance between f_θ and the frames' own clean
  latents x_0 (a ground-truth term, as the denoising regulariser of Kim et al. 2024, "Consistency
  Trajectory Models"), at the grid points t >= ``data_min_t`` only (0: all): it pulls the student
  from the teacher's ODE towards the data, whose mean given x_t is a blur where t is high.

The conditions (pose map, source tokens, fused embedding) are computed once per batch by the
frozen encoders and given to student, teacher and target exactly as the teacher sees them at
sampling time (no condition dropout, and the student's own dropout, in its source projection, off).
With ``student_init``, an earlier full student of the same teacher (checked by its recorded hash)
starts the student and the target instead of the teacher's weights, so that a distillation goes on
where an exported one stopped; the optimiser starts afresh (its warm-up applies again).
The whole denoiser of the student is trained (full fine-tuning), or with ``lora_rank`` > 0 only low-rank adapters on its UNet and the guidance map
(:mod:`fpdm_video.models.student_lora`; the model folder then holds only those tensors). The
target's weights are saved with the training state, so a resumed run continues exactly.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from fpdm_video.config import StudentConfig
from fpdm_video.errors import InputError
from fpdm_video.models.checkpoint import checkpoint_hash, load_config, load_model, save_adapter
from fpdm_video.models.consistency import consistency_output, teacher_grid
from fpdm_video.models.denoiser import RowConditions
from fpdm_video.models.guidance_rule import two_branch
from fpdm_video.models.noise import add_noise
from fpdm_video.models.prediction import predicted_x0_and_eps
from fpdm_video.models.student import student_from_teacher
from fpdm_video.models.student_lora import LORA_TARGETS, add_lora, is_adapter_key, lora_settings
from fpdm_video.train.stage_diffusion import DiffusionStage

MIN_ALPHA_BAR = 2.0**-24  # as the samplers: a zero-terminal-SNR chain ends at ᾱ = 0


def pseudo_huber(a: Tensor, b: Tensor, c: float) -> Tensor:
    """The mean of sqrt((a - b)² + c²) - c over each sample's elements, (B,)."""
    return (((a.float() - b.float()) ** 2 + c**2).sqrt() - c).flatten(1).mean(1)


def teacher_reference(path: str | None, teacher) -> dict:
    """What the student's config keeps about its teacher: folder, size name, checkpoint hash."""
    return {"path": str(path), "name": teacher.config.name, "sha256": checkpoint_hash(path) if path else None}


def continue_student(student, path: str) -> None:
    """Load the denoiser of the full student at ``path`` into ``student`` (InputError if it is not one of the same teacher)."""
    try:  # the config's checks first, before any weights are read
        config = load_config(path)
    except InputError as exc:  # a missing or broken checkpoint: said as the config key that named it
        raise InputError(f"distill.student_init: {exc}") from None
    if config.student is None:
        raise InputError(f"distill.student_init {path} is not a few-step student (its config has no student section)")
    if config.student.lora:
        raise InputError(f"distill.student_init {path} is a LoRA student; only a fully fine-tuned student can be continued")
    ours, theirs = student.config.student.teacher.get("sha256"), config.student.teacher.get("sha256")
    if ours != theirs:
        raise InputError(f"distill.student_init {path} was distilled from another teacher (sha256 {theirs}), not this one ({ours})")
    try:
        earlier = load_model(path)
    except InputError as exc:
        raise InputError(f"distill.student_init: {exc}") from None
    weights = {k.removeprefix("denoiser."): v for k, v in earlier.state_dict().items() if k.startswith("denoiser.")}
    try:
        student.denoiser.load_state_dict(weights)
    except RuntimeError as exc:
        raise InputError(f"distill.student_init {path} does not fit this student: {str(exc).splitlines()[0]}") from None


class DistillStage(DiffusionStage):
    name = "distill"

    def __init__(self, teacher, config) -> None:
        d = config.distill
        lora = lora_settings(d.lora_rank, d.lora_alpha, tuple(d.lora_targets) or LORA_TARGETS) if d.lora_rank else None
        student = student_from_teacher(teacher, StudentConfig(
            teacher=teacher_reference(config.init, teacher), steps=d.steps, guidance=d.guidance,
            guidance_range=tuple(d.guidance_range), teacher_steps=d.teacher_steps, solver="ddim", lora=lora))  # fmt: skip
        if lora:
            add_lora(student, lora)
        if d.student_init:
            continue_student(student, d.student_init)
        super().__init__(student, config)
        if lora:  # only the adapters and the guidance map learn; the teacher's own weights stay as they are
            for key, param in student.named_parameters():
                param.requires_grad_(is_adapter_key(key))
        self.teacher = teacher.denoiser.eval().requires_grad_(False)
        self.target = copy.deepcopy(student.denoiser).eval().requires_grad_(False)
        schedule = student.noise_schedule
        self.register_buffer("grid", teacher_grid(schedule.num_train_timesteps, d.teacher_steps), persistent=False)
        self.skip = schedule.num_train_timesteps // d.teacher_steps

    def trained_modules(self) -> list[nn.Module]:
        return [self.model.denoiser]

    def train(self, mode: bool = True) -> DistillStage:
        """As every stage, but the student's dropout stays off (the source projection's): it sees the conditions the
        teacher and the target see, unperturbed."""
        super().train(mode)
        for module in self.model.denoiser.modules():
            if isinstance(module, nn.Dropout):
                module.eval()
        return self

    def _alpha(self, timesteps: Tensor) -> Tensor:
        """ᾱ (B, 1, 1, 1) at timesteps (B,), 1 below 0 (the clean end), floored as the samplers floor it."""
        picked = self.alpha_bars[timesteps.clamp(min=0)].clamp(min=MIN_ALPHA_BAR)
        return torch.where(timesteps < 0, torch.ones_like(picked), picked).view(-1, 1, 1, 1)

    def forward(self, batch: dict[str, Tensor], generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        model, d = self.model, self.config.distill
        source, pose = batch["source"], batch["target_pose"]
        prediction = model.noise_schedule.prediction_type
        mean, std = self._posterior(batch)
        latents = (mean + std * torch.randn(mean.shape, generator=generator, device=mean.device)) * model.scaling_factor
        b = latents.shape[0]
        n = torch.randint(0, self.grid.shape[0], (b,), generator=generator, device=latents.device)
        t, s = self.grid[n], self.grid[n] - self.skip
        noise = torch.randn(latents.shape, generator=generator, device=latents.device)
        x_t = add_noise(latents, noise, t, self.alpha_bars)
        lo, hi = d.guidance_range
        g = lo + (hi - lo) * torch.rand(b, generator=generator, device=latents.device)
        with torch.no_grad():  # the encoders are frozen: the conditions every network sees
            tokens = model.source_encoder(source)
            fused = model.fuse(model.fusion.embed(source), pose)
        rows = RowConditions(model.denoiser.project_source(tokens), fused, pose_map=pose, guidance=g)
        student = consistency_output(x_t, model.denoise(x_t, t, rows), t, self._alpha(t), prediction)
        with torch.no_grad():
            x_s = self._teacher_step(x_t, t, s, g, tokens, fused, pose)
            target_rows = RowConditions(self.target.project_source(tokens), fused, pose_map=pose, guidance=g)
            target = consistency_output(x_s, self.target(x_s, s.clamp(min=0), target_rows), s, self._alpha(s), prediction)
        consistency = pseudo_huber(student, target, d.huber_c).mean()
        if not d.data_weight:
            return consistency, {"loss": consistency.item()}
        data = (pseudo_huber(student, latents, d.huber_c) * (t >= d.data_min_t)).mean()
        loss = consistency + d.data_weight * data
        return loss, {"loss": loss.item(), "consistency": consistency.item(), "data": data.item()}

    def _teacher_step(self, x_t: Tensor, t: Tensor, s: Tensor, g: Tensor, tokens: Tensor, fused: Tensor, pose: Tensor) -> Tensor:
        """x̂_s: one DDIM step of the teacher's guided ODE from x_t (its u and f rows in one call)."""
        b = x_t.shape[0]
        context = self.teacher.project_source(tokens)
        keep = torch.arange(2 * b, device=x_t.device) >= b  # rows [0, b): u (nothing kept), [b, 2b): f
        rows = RowConditions(torch.cat([context, context]), torch.cat([fused, fused]), pose_map=torch.cat([pose, pose]),
                             keep_pose=keep, keep_source=keep, keep_fused=keep)  # fmt: skip
        u, f = self.teacher(torch.cat([x_t, x_t]), torch.cat([t, t]), rows).float().chunk(2)
        guided = two_branch(u, f, g.view(-1, 1, 1, 1))
        x0, eps = predicted_x0_and_eps(x_t.float(), guided, self._alpha(t), self.model.noise_schedule.prediction_type)
        a_s = self._alpha(s)
        return (a_s.sqrt() * x0 + (1 - a_s).sqrt() * eps).to(x_t.dtype)

    @torch.no_grad()
    def after_step(self) -> None:
        """The target network follows the student: θ⁻ <- μ θ⁻ + (1 - μ) θ."""
        mu = self.config.distill.target_decay
        for target, online in zip(self.target.parameters(), self.model.denoiser.parameters(), strict=True):
            target.lerp_(online.detach(), 1.0 - mu)

    def _lora(self) -> bool:
        return bool(self.config.distill.lora_rank)

    def extra_state(self) -> dict[str, Tensor]:
        """The target network's weights (LoRA: its adapters and guidance map only, the rest is the frozen teacher)."""
        keep = (lambda k: is_adapter_key(f"denoiser.{k}")) if self._lora() else (lambda k: True)
        return {f"target.{k}": v.detach().cpu().clone() for k, v in self.target.state_dict().items() if keep(k)}

    def load_extra_state(self, state: dict[str, Tensor]) -> None:
        own = {k.removeprefix("target."): v for k, v in state.items() if k.startswith("target.")}
        _, unexpected = self.target.load_state_dict(own, strict=not self._lora())
        if unexpected:
            raise ValueError(f"the saved target network does not fit this run: unexpected {unexpected[:3]}")

    def export(self, directory) -> None:
        """The student's folder: the whole checkpoint, or (LoRA) its config and adapter only."""
        if self._lora():
            save_adapter(self.model, directory)
        else:
            super().export(directory)
