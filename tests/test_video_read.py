"""Reading: the real test video with both decoders, frame folders, chunking and frame ranges."""

from __future__ import annotations

import av
import numpy as np
import pytest

from fpdm_video.video import iter_video_chunks, probe, read_video, reader, write_video
from fpdm_video.video.reader_decord import DecordFailure, iter_chunks_decord
from factories_video import make_clip, write_frame_folder


def _packet_times(path) -> np.ndarray:
    """Presentation times pts * time_base of every packet, sorted: the timing the file stores."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.size > 0]
        return np.sort(np.array(pts, dtype=np.float64)) * float(stream.time_base)


@pytest.fixture(scope="module")
def real_video(real_data):
    return real_data / "test_video.mp4"


def test_probe_real_video(real_video):
    info = probe(real_video)
    assert (info.num_frames, info.width, info.height) == (58, 540, 720)
    assert info.codec == "h264" and not info.is_frame_folder
    assert info.fps == pytest.approx(info.num_frames / info.duration)
    assert 29.0 < info.fps < 31.0


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_read_real_video(real_video, backend):
    clip = read_video(real_video, backend=backend)
    assert clip.frames.shape == (58, 720, 540, 3) and clip.frames.dtype == np.uint8
    assert clip.fps == pytest.approx(probe(real_video).fps)
    assert clip.timestamps.dtype == np.float64 and np.all(np.diff(clip.timestamps) > 0)
    np.testing.assert_allclose(clip.timestamps, _packet_times(real_video), atol=1e-6)
    assert clip.frames.std() > 10  # real image content, not a blank decode


def test_decord_and_pyav_agree_on_real_video(real_video):
    by_decord = read_video(real_video, backend="decord")
    by_pyav = read_video(real_video, backend="pyav")
    assert len(by_decord) == len(by_pyav) == 58
    np.testing.assert_allclose(by_decord.timestamps, by_pyav.timestamps, atol=1e-6)
    np.testing.assert_array_equal(by_decord.frames, by_pyav.frames)


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_variable_frame_rate_is_kept(tmp_path, backend):
    times = np.cumsum([0.0, 0.04, 0.02, 0.1, 0.04, 0.033, 0.07, 0.04])  # irregular gaps
    frames = make_clip(t=8)
    path = write_video(tmp_path / "vfr.mp4", frames, fps=25, lossless=True, timestamps=times)
    clip = read_video(path, backend=backend)
    np.testing.assert_allclose(clip.timestamps, times, atol=1e-5)
    np.testing.assert_array_equal(clip.frames, frames)  # no frame dropped or duplicated
    assert clip.fps == pytest.approx(8 / (times[-1] + 1 / 25))


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_chunks_equal_reading_all_file(tmp_path, backend):
    path = write_video(tmp_path / "clip.mp4", make_clip(t=40), fps=25)
    whole = read_video(path, backend=backend)
    chunks = list(iter_video_chunks(path, chunk_size=16, backend=backend))
    assert [len(c) for c in chunks] == [16, 16, 8]
    assert [c.start_index for c in chunks] == [0, 16, 32]
    np.testing.assert_array_equal(np.concatenate([c.frames for c in chunks]), whole.frames)
    np.testing.assert_array_equal(np.concatenate([c.timestamps for c in chunks]), whole.timestamps)


def test_frame_range_of_file_matches_full_read(tmp_path):
    path = write_video(tmp_path / "clip.mp4", make_clip(t=30), fps=25)
    whole = read_video(path)
    part = read_video(path, start=7, end=23)
    assert part.start_index == 7
    np.testing.assert_array_equal(part.frames, whole.frames[7:23])
    np.testing.assert_array_equal(part.timestamps, whole.timestamps[7:23])


def test_frame_folder_natural_order_and_fps(tmp_path):
    frames = make_clip(t=12, w=42, h=52)
    folder = write_frame_folder(tmp_path / "video", frames, name="images{}.png")  # images2 < images10
    (folder / "notes.txt").write_text("not a frame")
    info = probe(folder)
    assert info.is_frame_folder and info.codec == "png"
    assert (info.num_frames, info.width, info.height, info.fps) == (12, 42, 52, 25.0)
    clip = read_video(folder)
    np.testing.assert_array_equal(clip.frames, frames)
    np.testing.assert_allclose(clip.timestamps, np.arange(12) / 25.0)
    slow = read_video(folder, folder_fps=10.0)
    assert slow.fps == 10.0
    np.testing.assert_allclose(slow.timestamps, np.arange(12) / 10.0)


def test_chunks_equal_reading_all_folder(tmp_path):
    folder = write_frame_folder(tmp_path / "video", make_clip(t=35, w=21, h=26))
    whole = read_video(folder)
    chunks = list(iter_video_chunks(folder, chunk_size=16, start=1))
    assert [(c.start_index, len(c)) for c in chunks] == [(1, 16), (17, 16), (33, 2)]
    np.testing.assert_array_equal(np.concatenate([c.frames for c in chunks]), whole.frames[1:])
    np.testing.assert_array_equal(np.concatenate([c.timestamps for c in chunks]), whole.timestamps[1:])


def test_jpeg_folder(tmp_path):
    frames = make_clip(t=3)
    folder = write_frame_folder(tmp_path / "video", frames, name="images{:04d}.jpg")
    info = probe(folder)
    assert info.codec == "jpeg"
    clip = read_video(folder)
    assert clip.frames.shape == frames.shape
    assert np.abs(clip.frames.astype(int) - frames).mean() < 8  # JPEG is lossy but close


def test_pyav_takes_over_where_decord_fails(tmp_path, monkeypatch):
    """If decord breaks mid-video, PyAV goes on from the next frame and the result is unchanged."""
    path = write_video(tmp_path / "clip.mp4", make_clip(t=40), fps=25)
    whole = read_video(path, backend="pyav")

    def decord_failing_after_one_chunk(info, start, end, chunk_size):
        yield next(iter_chunks_decord(info, start, end, chunk_size))
        raise DecordFailure("simulated decode failure")

    monkeypatch.setattr(reader, "iter_chunks_decord", decord_failing_after_one_chunk)
    chunks = list(iter_video_chunks(path, chunk_size=16))
    assert [(c.start_index, len(c)) for c in chunks] == [(0, 16), (16, 16), (32, 8)]
    np.testing.assert_array_equal(np.concatenate([c.frames for c in chunks]), whole.frames)
    np.testing.assert_allclose(np.concatenate([c.timestamps for c in chunks]), whole.timestamps, atol=1e-6)
