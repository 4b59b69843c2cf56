"""Stage 1: the fusion model (encoder E + Combiner), with InfoNCE and the self-learning pairs.

One pass of E embeds the source frames, target frames, target pose maps and source pose maps
together; the loss is :func:`fpdm_video.models.fusion.fusion_loss`. The encoder may have its own,
lower learning rate (the paper fine-tunes CLIP at 1e-5). Under DDP the negatives are those of each
process's own micro-batch.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor, nn

from fpdm_video.models.fusion import fusion_loss, retrieval_accuracy
from fpdm_video.train.stage_base import Stage


class FusionStage(Stage):
    name = "fusion"

    def trained_modules(self) -> list[nn.Module]:
        return [self.model.fusion]

    def param_groups(self) -> list[tuple[list[nn.Parameter], float]]:
        encoder_lr = self.config.fusion.encoder_lr or self.config.optim.lr
        encoder = [p for p in self.model.fusion.encoder.parameters() if p.requires_grad]
        combiner = [p for p in self.model.fusion.combiner.parameters() if p.requires_grad]
        return [(encoder, encoder_lr), (combiner, self.config.optim.lr)]

    def forward(self, batch: dict[str, Tensor], generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        stacked = torch.stack([batch["source"], batch["target"], batch["target_pose"], batch["source_pose"]])
        embeddings = self.model.fusion.embed(rearrange(stacked, "k b c h w -> (k b) c h w"))  # (4B, D)
        e_src, e_tgt, e_tpose, e_spose = rearrange(embeddings, "(k b) d -> k b d", k=4)
        combiner = self.model.fusion.combiner
        fused = combiner(e_src, e_tpose)  # (B, D)
        fused_self = combiner(e_src, e_spose) if self.config.fusion.self_learning else None
        out = fusion_loss(fused.float(), e_tgt.float(), e_src.float(), None if fused_self is None else fused_self.float())
        b = fused.shape[0]
        top1 = (out.logits[:b].argmax(dim=1) == torch.arange(b, device=fused.device)).float().mean()
        metrics = {"loss": out.total.item(), "info_nce": out.info_nce.item(), "l1": out.l1.item(), "top1": top1.item()}
        return out.total, metrics

    @torch.no_grad()
    def evaluate(self, batches: list[dict[str, Tensor]], generator: torch.Generator) -> dict[str, float]:
        was = self.training
        self.train(False)
        metrics = {**super().evaluate(batches, generator), **retrieval_eval(self, batches)}
        self.train(was)
        return metrics


def retrieval_eval(stage: FusionStage, batches: list[dict[str, Tensor]]) -> dict[str, float]:
    """Top-k retrieval of E(target) by Combiner(E(source), E(target pose)) over all held-out pairs at once."""
    fusion = stage.model.fusion
    queries, keys = [], []
    for batch in batches:
        queries.append(fusion(batch["source"], batch["target_pose"]).float())
        keys.append(fusion.embed(batch["target"]).float())
    q, k = torch.cat(queries), torch.cat(keys)
    scores = retrieval_accuracy(q, k, ks=(1, 5))
    return {"eval_top1": scores["top1"], "eval_top5": scores["top5"], "eval_pairs": float(len(q)),
            "chance_top1": 1.0 / len(q), "chance_top5": min(1.0, 5.0 / len(q))}  # fmt: skip
