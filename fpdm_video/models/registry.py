"""Named FPDM sizes: one config function each, one registry dict of them, and one builder (segment-anything's shape).

| size | what it is |
| --- | --- |
| ``tiny`` | for tests: about 0.4M parameters at 32x32, milliseconds on CPU |
| ``demo`` | small, trainable on a CPU or in ~30 GPU minutes, at 128x128 (VAE factor 4) |
| ``sd21-256`` | the paper, as the official code builds it: SD 2.1 UNet and VAE, transformers CLIP ViT-L/14 fusion encoder, DINOv2-L source tokens at 512 px, 256x256 |
| ``sd21-512`` | the same at 512x512 |

The SD 2.1, CLIP ViT-L/14 (openai/clip-vit-large-patch14) and DINOv2-L (facebook/dinov2-large)
values are written out here from their public configurations (nothing is downloaded), so these
sizes build with random weights anywhere. The other parts follow the official FPDM code
(dhlee-work/FPDM, its DeepFashion config): Combiner widths 768 / 768 on D = 768, the source
projection 1024 -> 768 -> 1024 with dropout 0.2, the class embedding its two-layer MLP 768 -> 768 ->
1280, and DINOv2 tokens at 512 px (36 x 36 patches + CLS). ``python -m fpdm_video.models init``
fills them with pretrained SD 2.1, CLIP and DINOv2 weights from folders or hub names the user
gives. The SD 2.1 sizes use epsilon prediction and SD's noise schedule, as SD 2.1-base does (``init``
takes the prediction type of the SD folder it is given: the 768 model predicts v); the demo size,
trained from scratch, uses v-prediction with a zero terminal SNR.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from fpdm_video.geometry import canvas_dims

from fpdm_video.config import (
    CLIP_MEAN,
    CLIP_STD,
    CombinerConfig,
    FPDMConfig,
    FusionEncoderConfig,
    HFVisionConfig,
    NoiseScheduleConfig,
    PoseEmbeddingConfig,
    SourceEncoderConfig,
    SourceProjectionConfig,
    UNetConfig,
    VAEConfig,
    VisionTowerConfig,
)


def _small_vae(channels: tuple[int, ...], groups: int) -> VAEConfig:
    n = len(channels)
    return VAEConfig(
        kwargs=dict(
            in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=groups,
            block_out_channels=channels, down_block_types=("DownEncoderBlock2D",) * n,
            up_block_types=("UpDecoderBlock2D",) * n,
        ),
        scaling_factor=1.0,
    )  # fmt: skip


def tiny_config() -> FPDMConfig:
    """For tests: every part present, all very small; VAE factor 2 at 32x32."""
    tower = VisionTowerConfig(
        custom=dict(layers=1, width=32, head_width=16, mlp_ratio=2.0, patch_size=8, image_size=32), embed_dim=16
    )
    return FPDMConfig(
        name="tiny",
        resolution=32,
        fusion_encoder=FusionEncoderConfig(tower=tower),
        combiner=CombinerConfig(projection_dim=16, hidden_dim=32),
        source_encoder=SourceEncoderConfig(tower=copy.deepcopy(tower)),
        source_projection=SourceProjectionConfig(hidden_dim=32),
        pose_embedding=PoseEmbeddingConfig(block_out_channels=(8, 16)),
        vae=_small_vae((8, 16), groups=4),
        unet=UNetConfig(
            kwargs=dict(
                sample_size=16, in_channels=4, out_channels=4, layers_per_block=1,
                block_out_channels=(16, 32), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16,
                attention_head_dim=8, norm_num_groups=8,
            )
        ),
    )  # fmt: skip


def demo_config() -> FPDMConfig:
    """The shipped demo size: 128x128, VAE factor 4 (32x32x4 latents), about 10M parameters."""
    fusion = VisionTowerConfig(
        custom=dict(layers=4, width=128, head_width=32, mlp_ratio=2.0, patch_size=16, image_size=128), embed_dim=128
    )
    source = VisionTowerConfig(
        custom=dict(layers=2, width=128, head_width=32, mlp_ratio=2.0, patch_size=16, image_size=128), embed_dim=128
    )
    return FPDMConfig(
        name="demo",
        resolution=128,
        fusion_encoder=FusionEncoderConfig(tower=fusion),
        combiner=CombinerConfig(projection_dim=128, hidden_dim=256),
        source_encoder=SourceEncoderConfig(tower=source),
        source_projection=SourceProjectionConfig(hidden_dim=256),
        pose_embedding=PoseEmbeddingConfig(block_out_channels=(16, 32, 64)),
        vae=_small_vae((32, 64, 64), groups=16),
        unet=UNetConfig(
            kwargs=dict(
                sample_size=32, in_channels=4, out_channels=4, layers_per_block=1,
                block_out_channels=(64, 128, 128),
                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                cross_attention_dim=128, attention_head_dim=32, norm_num_groups=16,
            )
        ),
        # Trained from scratch, so it can use a zero-terminal-SNR schedule (see fpdm_video.models.noise):
        # with SD's schedule it took its colours from the starting noise instead of the reference.
        noise_schedule=NoiseScheduleConfig(prediction_type="v_prediction", zero_terminal_snr=True, timestep_spacing="trailing"),
    )  # fmt: skip


# openai/clip-vit-large-patch14's vision tower and facebook/dinov2-large, as transformers configs
CLIP_VIT_L14 = dict(model_type="clip_vision_model", hidden_size=1024, intermediate_size=4096, projection_dim=768,
                    num_hidden_layers=24, num_attention_heads=16, image_size=224, patch_size=14, hidden_act="quick_gelu",
                    layer_norm_eps=1e-5)  # fmt: skip
DINOV2_L = dict(model_type="dinov2", hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, mlp_ratio=4,
                patch_size=14, image_size=518, layerscale_value=1.0, hidden_act="gelu", layer_norm_eps=1e-6, qkv_bias=True,
                use_swiglu_ffn=False)  # fmt: skip
OFFICIAL_SOURCE_SIZE = 512  # the official DeepFashion config's src_encoder_size
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def sd21_config(resolution: int | tuple[int, int]) -> FPDMConfig:
    """The paper's architecture as the official code builds it: SD 2.1 UNet + VAE, CLIP ViT-L/14 E, DINOv2-L tokens.

    ``resolution`` is a square side or a (width, height) canvas (the official DeepFashion model: (352, 512)).
    """
    width, height = canvas_dims(resolution)
    square = width == height and not isinstance(resolution, (tuple, list))
    return FPDMConfig(
        name=f"sd21-{width}" if square else f"sd21-{width}x{height}",
        resolution=width if square else [width, height],
        fusion_encoder=FusionEncoderConfig(kind="hf", hf=HFVisionConfig(architecture="clip_with_projection",
                                                                        config=dict(CLIP_VIT_L14), mean=CLIP_MEAN, std=CLIP_STD)),  # fmt: skip
        combiner=CombinerConfig(projection_dim=768, hidden_dim=768),
        source_encoder=SourceEncoderConfig(kind="hf", hf=HFVisionConfig(architecture="dinov2", config=dict(DINOV2_L),
                                                                        image_size=OFFICIAL_SOURCE_SIZE, mean=IMAGENET_MEAN,
                                                                        std=IMAGENET_STD, position_interpolation="offset")),  # fmt: skip
        source_projection=SourceProjectionConfig(hidden_dim=768, dropout=0.2),
        pose_embedding=PoseEmbeddingConfig(block_out_channels=(16, 32, 96, 256)),
        vae=VAEConfig(
            kwargs=dict(
                in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32,
                block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                up_block_types=("UpDecoderBlock2D",) * 4, sample_size=max(width, height),
            ),
            scaling_factor=0.18215,
        ),
        unet=UNetConfig(
            kwargs=dict(
                sample_size=width // 8 if square else [height // 8, width // 8], in_channels=4, out_channels=4, layers_per_block=2,
                block_out_channels=(320, 640, 1280, 1280),
                down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
                cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20), use_linear_projection=True,
                norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0,
            ),
            class_embedding="mlp",
            class_hidden_dim=768,
        ),
    )  # fmt: skip


CONFIG_REGISTRY: dict[str, Callable[[], FPDMConfig]] = {
    "tiny": tiny_config,
    "demo": demo_config,
    "sd21-256": lambda: sd21_config(256),
    "sd21-512": lambda: sd21_config(512),
}


def build_model(name_or_config: str | FPDMConfig, *, load_pretrained: bool = True):
    """An FPDM of a named size or a config (random init unless the config names pretrained parts)."""
    from fpdm_video.errors import InputError
    from fpdm_video.models.fpdm import FPDM

    if isinstance(name_or_config, str):
        if name_or_config not in CONFIG_REGISTRY:
            raise InputError(f"unknown model size {name_or_config!r}; choose one of {', '.join(CONFIG_REGISTRY)}")
        name_or_config = CONFIG_REGISTRY[name_or_config]()
    return FPDM(name_or_config, load_pretrained=load_pretrained)
