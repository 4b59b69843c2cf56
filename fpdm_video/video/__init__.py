"""Video input and output: probe, read (decord, PyAV fallback, frame folders), write H.264, compare."""

from fpdm_video.video.comparison import write_comparison_video
from fpdm_video.video.probe import probe
from fpdm_video.video.reader import iter_video_chunks, read_video
from fpdm_video.video.types import PHOENIX_FPS, Clip, VideoInfo
from fpdm_video.video.writer import VideoWriter, write_video

__all__ = [
    "PHOENIX_FPS",
    "Clip",
    "VideoInfo",
    "VideoWriter",
    "iter_video_chunks",
    "probe",
    "read_video",
    "write_comparison_video",
    "write_video",
]
