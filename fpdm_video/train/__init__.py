"""Training of FPDM: a VAE stage (sizes without a pretrained autoencoder), stage 1 fusion, stage 2 diffusion."""

from fpdm_video.train.config import TrainConfig, load_train_config

__all__ = ["TrainConfig", "load_train_config"]
