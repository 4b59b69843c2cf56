"""Stage 1 of FPDM: the fusion embedding of a source image and a target pose.

One encoder E (an open_clip vision tower, or transformers' CLIP as in the paper) embeds both the source image and the rendered target
pose map, with shared weights. The Combiner (CLIP4Cir style) fuses the two embeddings:

    a = dropout(ReLU(Linear(e_pose)))        b = dropout(ReLU(Linear(e_img)))
    c = [a, b]
    out = Linear(dropout(ReLU(Linear(c))))
    lambda = sigmoid(MLP(c))
    fused = normalize(out + lambda * e_pose + (1 - lambda) * e_img)

Training (pure functions below): InfoNCE between the fused embedding and E(target image), cosine
similarity at temperature 0.07, with the batch extended by "self-learning" source->source pairs
(the source image with its own pose map must retrieve the source image), plus 1e-4 * L1(e_img,
fused).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fpdm_video.config import CombinerConfig, FusionEncoderConfig
from fpdm_video.models.encoders import build_fusion_encoder

TEMPERATURE = 0.07
L1_WEIGHT = 1e-4


class Combiner(nn.Module):
    """Fuses e_img and e_pose (both (B, D)) into an L2-normalised (B, D) embedding."""

    def __init__(self, dim: int, config: CombinerConfig) -> None:
        super().__init__()
        p, h = config.projection_dim, config.hidden_dim
        self.pose_projection = nn.Linear(dim, p)  # e_pose -> a
        self.image_projection = nn.Linear(dim, p)  # e_img -> b
        self.dropout_pose = nn.Dropout(config.dropout)
        self.dropout_image = nn.Dropout(config.dropout)
        self.combiner_layer = nn.Linear(2 * p, h)
        self.dropout_out = nn.Dropout(config.dropout)
        self.output_layer = nn.Linear(h, dim)
        self.dynamic_scalar = nn.Sequential(nn.Linear(2 * p, h), nn.ReLU(), nn.Dropout(config.dropout), nn.Linear(h, 1))

    def forward(self, image_embedding: Tensor, pose_embedding: Tensor) -> Tensor:
        a = self.dropout_pose(F.relu(self.pose_projection(pose_embedding)))  # (B, p)
        b = self.dropout_image(F.relu(self.image_projection(image_embedding)))  # (B, p)
        c = torch.cat([a, b], dim=-1)  # (B, 2p)
        out = self.output_layer(self.dropout_out(F.relu(self.combiner_layer(c))))  # (B, D)
        lam = torch.sigmoid(self.dynamic_scalar(c))  # (B, 1)
        fused = out + lam * pose_embedding + (1 - lam) * image_embedding
        return F.normalize(fused, dim=-1)


class FusionModel(nn.Module):
    """Encoder E (shared by images and pose maps) + Combiner."""

    def __init__(self, encoder: FusionEncoderConfig, combiner: CombinerConfig, *, load_pretrained: bool = True) -> None:
        super().__init__()
        self.encoder = build_fusion_encoder(encoder, load_pretrained=load_pretrained)
        self.dim = self.encoder.embed_dim
        self.combiner = Combiner(self.dim, combiner)

    def embed(self, images: Tensor) -> Tensor:
        """E(images): (B, 3, H, W) [0, 1] -> (B, D) projected embedding."""
        return self.encoder.embed(images)

    def forward(self, source: Tensor, pose_map: Tensor) -> Tensor:
        """Fused embedding of source images and target pose maps, (B, D)."""
        return self.combiner(self.embed(source), self.embed(pose_map))


@dataclass
class FusionLoss:
    """The stage 1 loss and its parts."""

    total: Tensor  # InfoNCE + L1 term
    info_nce: Tensor  # contrastive part
    l1: Tensor  # 1e-4 * L1(e_img, fused) part (already weighted)
    logits: Tensor  # (Q, Q) similarities / temperature of queries against keys


def info_nce(queries: Tensor, keys: Tensor, temperature: float = TEMPERATURE) -> tuple[Tensor, Tensor]:
    """InfoNCE with cosine similarity: query i's positive is key i. Returns (loss, logits (Q, Q))."""
    logits = F.normalize(queries, dim=-1) @ F.normalize(keys, dim=-1).T / temperature  # (Q, Q)
    labels = torch.arange(queries.shape[0], device=queries.device)
    return F.cross_entropy(logits, labels), logits


def fusion_loss(
    fused: Tensor,
    target_embedding: Tensor,
    image_embedding: Tensor,
    fused_self: Tensor | None = None,
    *,
    temperature: float = TEMPERATURE,
    l1_weight: float = L1_WEIGHT,
) -> FusionLoss:
    """The FPDM stage 1 loss.

    fused: (B, D) Combiner(e_img, E(target pose)); target_embedding: (B, D) E(target image);
    image_embedding: (B, D) e_img = E(source image); fused_self: (B, D) Combiner(e_img, E(source
    pose)), the self-learning queries, whose positives are E(source image) itself. The batch of
    queries is [fused; fused_self] against keys [E(target); E(source)] (2B x 2B logits), so every
    other target and source in the batch is a negative. The L1 term pulls the fused embedding
    toward e_img over all queries.
    """
    queries, keys, anchors = fused, target_embedding, image_embedding
    if fused_self is not None:
        queries = torch.cat([fused, fused_self])  # (2B, D)
        keys = torch.cat([target_embedding, image_embedding])  # (2B, D)
        anchors = torch.cat([image_embedding, image_embedding])  # (2B, D)
    contrastive, logits = info_nce(queries, keys, temperature)
    l1 = l1_weight * F.l1_loss(queries, anchors)
    return FusionLoss(total=contrastive + l1, info_nce=contrastive, l1=l1, logits=logits)


def retrieval_accuracy(queries: Tensor, keys: Tensor, ks: tuple[int, ...] = (1, 5)) -> dict[str, float]:
    """Top-k accuracy of retrieving key i for query i among all keys (cosine similarity)."""
    sims = F.normalize(queries, dim=-1) @ F.normalize(keys, dim=-1).T  # (Q, K)
    ranked = sims.argsort(dim=1, descending=True)  # (Q, K)
    truth = torch.arange(queries.shape[0], device=queries.device)[:, None]
    return {f"top{k}": (ranked[:, :k] == truth).any(dim=1).float().mean().item() for k in ks}
