"""Video input and output: probe, read (decord, PyAV fallback, frame folders), write H.264, compare,
and the PHOENIX-2014T dataset layout (reader and resumable writer)."""

from fpdm_video.video.comparison import write_comparison_video
from fpdm_video.video.phoenix import PhoenixDataset, count_sample_frames, iter_sample_chunks, load_sample
from fpdm_video.video.phoenix_corpus import PhoenixSample
from fpdm_video.video.phoenix_layout import SPLITS as PHOENIX_SPLITS
from fpdm_video.video.phoenix_writer import PhoenixWriter, RecoveryReport
from fpdm_video.video.probe import probe
from fpdm_video.video.reader import iter_video_chunks, read_video
from fpdm_video.video.types import PHOENIX_FPS, Clip, VideoInfo
from fpdm_video.video.writer import VideoWriter, write_video

__all__ = [
    "PHOENIX_FPS",
    "PHOENIX_SPLITS",
    "PhoenixDataset",
    "PhoenixSample",
    "PhoenixWriter",
    "RecoveryReport",
    "count_sample_frames",
    "iter_sample_chunks",
    "load_sample",
    "Clip",
    "VideoInfo",
    "VideoWriter",
    "iter_video_chunks",
    "probe",
    "read_video",
    "write_comparison_video",
    "write_video",
]
