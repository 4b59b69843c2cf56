"""Stage 1: the Combiner formula, the InfoNCE loss with self-learning pairs, retrieval metrics."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from fpdm_video.config import CombinerConfig
from fpdm_video.models.fusion import Combiner, fusion_loss, info_nce, retrieval_accuracy


def _set(linear: torch.nn.Linear, weight, bias) -> None:
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(weight, dtype=torch.float32))
        linear.bias.copy_(torch.tensor(bias, dtype=torch.float32))


def test_combiner_matches_a_hand_computation():
    comb = Combiner(2, CombinerConfig(projection_dim=1, hidden_dim=1, dropout=0.5)).eval()
    _set(comb.pose_projection, [[1.0, 0.0]], [0.0])  # a = relu(p0)
    _set(comb.image_projection, [[0.0, 1.0]], [0.0])  # b = relu(i1)
    _set(comb.combiner_layer, [[1.0, 1.0]], [0.0])  # h = relu(a + b)
    _set(comb.output_layer, [[2.0], [-1.0]], [0.0, 0.5])  # out = (2h, -h + 0.5)
    _set(comb.dynamic_scalar[0], [[1.0, -1.0]], [0.0])  # m = relu(a - b)
    _set(comb.dynamic_scalar[3], [[1.0]], [0.0])  # lambda = sigmoid(m)
    e_img = torch.tensor([[0.5, 2.0]])
    e_pose = torch.tensor([[3.0, -1.0]])
    a, b = 3.0, 2.0
    h = a + b
    out = torch.tensor([2 * h, -h + 0.5])
    lam = 1 / (1 + math.exp(-(a - b)))
    fused = out + lam * e_pose[0] + (1 - lam) * e_img[0]
    expected = fused / fused.norm()
    torch.testing.assert_close(comb(e_img, e_pose)[0], expected)


def test_combiner_output_is_normalised_and_dropout_only_in_training():
    torch.manual_seed(0)
    comb = Combiner(8, CombinerConfig(projection_dim=4, hidden_dim=6))
    e_img, e_pose = torch.randn(5, 8), torch.randn(5, 8)
    comb.eval()
    out = comb(e_img, e_pose)
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(5))
    torch.testing.assert_close(out, comb(e_img, e_pose))
    comb.train()
    assert not torch.allclose(comb(e_img, e_pose), comb(e_img, e_pose))


def _direct_info_nce(queries, keys, temperature):
    """InfoNCE written out with loops: mean over i of -log softmax_j(cos(q_i, k_j) / T)[i]."""
    total = 0.0
    for i in range(len(queries)):
        sims = [F.cosine_similarity(queries[i], keys[j], dim=0).item() / temperature for j in range(len(keys))]
        log_denominator = math.log(sum(math.exp(s) for s in sims))
        total += -(sims[i] - log_denominator)
    return total / len(queries)


def test_info_nce_matches_direct_computation():
    torch.manual_seed(1)
    q, k = torch.randn(4, 6), torch.randn(4, 6)
    loss, logits = info_nce(q, k, 0.07)
    assert logits.shape == (4, 4)
    assert loss.item() == pytest.approx(_direct_info_nce(q, k, 0.07), rel=1e-5)


def test_fusion_loss_with_self_learning_pairs_matches_direct_computation():
    torch.manual_seed(2)
    b, d = 3, 5
    fused, fused_self = F.normalize(torch.randn(b, d), dim=-1), F.normalize(torch.randn(b, d), dim=-1)
    target, source = torch.randn(b, d), torch.randn(b, d)
    result = fusion_loss(fused, target, source, fused_self)
    queries = torch.cat([fused, fused_self])
    keys = torch.cat([target, source])  # self-learning pairs: source pose -> the source image itself
    expected_nce = _direct_info_nce(queries, keys, 0.07)
    expected_l1 = 1e-4 * sum(
        (queries[i] - torch.cat([source, source])[i]).abs().sum().item() for i in range(2 * b)
    ) / (2 * b * d)
    assert result.logits.shape == (2 * b, 2 * b)
    assert result.info_nce.item() == pytest.approx(expected_nce, rel=1e-5)
    assert result.l1.item() == pytest.approx(expected_l1, rel=1e-5)
    assert result.total.item() == pytest.approx(expected_nce + expected_l1, rel=1e-5)
    # without the self-learning pairs the batch is B x B
    plain = fusion_loss(fused, target, source)
    assert plain.logits.shape == (b, b)
    assert plain.info_nce.item() == pytest.approx(_direct_info_nce(fused, target, 0.07), rel=1e-5)


def test_retrieval_accuracy_top1_top5():
    keys = torch.eye(6)
    queries = keys.clone()
    queries[0] = keys[1] + 0.1 * keys[0]  # query 0 finds key 1 first, key 0 second
    acc = retrieval_accuracy(queries, keys, ks=(1, 5))
    assert acc["top1"] == pytest.approx(5 / 6)
    assert acc["top5"] == pytest.approx(1.0)
