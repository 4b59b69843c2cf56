"""Writing: lossless and lossy round trips, odd sizes, 1:1 frames and timing, atomic output."""

from __future__ import annotations

import gc

import av
import numpy as np
import pytest

from fpdm_video.errors import VideoWriteError
from fpdm_video.video import (
    VideoWriter,
    iter_video_chunks,
    probe,
    read_video,
    write_comparison_video,
    write_video,
)
from factories_video import make_clip, psnr


def _pix_fmt(path) -> str:
    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.pix_fmt


def test_lossless_round_trip_is_bit_exact(tmp_path):
    frames = make_clip(t=8, w=64, h=48)
    path = write_video(tmp_path / "ll.mp4", frames, fps=25, lossless=True)
    for backend in ("decord", "pyav"):
        np.testing.assert_array_equal(read_video(path, backend=backend).frames, frames)


def test_decode_lossless_encode_decode_is_bit_exact(tmp_path):
    """A decoded (lossy) video re-encoded losslessly decodes to the very same frames."""
    lossy = write_video(tmp_path / "lossy.mp4", make_clip(t=8, seed=3), fps=25, crf=30)
    decoded = read_video(lossy)
    again = write_video(tmp_path / "ll.mp4", decoded.frames, fps=decoded.fps, lossless=True)
    np.testing.assert_array_equal(read_video(again).frames, decoded.frames)


def test_odd_size_lossy_round_trip_keeps_size(tmp_path):
    frames = make_clip(t=6, w=211, h=261)
    path = write_video(tmp_path / "odd.mp4", frames, fps=25)
    info = probe(path)
    assert (info.width, info.height) == (211, 261)
    assert _pix_fmt(path) == "yuv444p"
    clip = read_video(path)
    assert clip.frames.shape == (6, 261, 211, 3)
    assert psnr(clip.frames, frames) > 30.0  # measured 33.8 dB at crf 18 (noise is hard to code)
    assert psnr(clip.frames[1:], frames[:-1]) < 25.0  # and each frame matches its own source only


def test_odd_size_lossless_round_trip_is_exact(tmp_path):
    frames = make_clip(t=4, w=211, h=261)
    path = write_video(tmp_path / "odd_ll.mp4", frames, fps=25, lossless=True)
    np.testing.assert_array_equal(read_video(path).frames, frames)


def test_even_size_uses_yuv420p_and_is_close(tmp_path):
    frames = make_clip(t=6, w=64, h=48)
    path = write_video(tmp_path / "even.mp4", frames, fps=25)
    assert _pix_fmt(path) == "yuv420p"
    decoded = read_video(path).frames
    assert psnr(decoded, frames) > 25.0  # measured 27.8 dB: 4:2:0 chroma of a tiny noisy frame
    assert psnr(decoded[1:], frames[:-1]) < 22.0


@pytest.mark.parametrize("fps", [25.0, 29.97, 359 / 12])
def test_writing_is_one_to_one_at_source_fps(tmp_path, fps):
    frames = make_clip(t=17)
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps=fps) as writer:
        writer.write(frames[:5])  # a batch
        for frame in frames[5:]:  # and single frames
            writer.write(frame)
    info = probe(path)
    assert info.num_frames == 17
    assert info.fps == pytest.approx(fps, rel=1e-4)
    clip = read_video(path)
    np.testing.assert_allclose(clip.timestamps, np.arange(17) / fps, atol=1e-4)


def test_real_video_rewritten_keeps_count_fps_and_times(real_data, tmp_path):
    source = read_video(real_data / "test_video.mp4")
    path = write_video(tmp_path / "copy.mp4", source.frames, source.fps, timestamps=source.timestamps)
    copy = read_video(path)
    assert len(copy) == len(source)
    assert copy.fps == pytest.approx(source.fps, rel=1e-4)
    np.testing.assert_allclose(copy.timestamps, source.timestamps, atol=1e-5)


def test_exception_leaves_no_file(tmp_path):
    path = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(path, fps=25) as writer:
            writer.write(make_clip(t=4))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_leaves_no_file(tmp_path):
    path = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(path, fps=25) as writer:
            writer.write(make_clip(t=4))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_failed_rewrite(tmp_path):
    path = write_video(tmp_path / "out.mp4", make_clip(t=3), fps=25)
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with VideoWriter(path, fps=25) as writer:
            writer.write(make_clip(t=5, seed=1))
            raise RuntimeError("boom")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_writer_dropped_without_close_leaves_no_file(tmp_path):
    writer = VideoWriter(tmp_path / "out.mp4", fps=25)
    writer.write(make_clip(t=2))
    assert len(list(tmp_path.iterdir())) == 1  # the temporary file
    del writer
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_write_after_close_is_an_error(tmp_path):
    writer = VideoWriter(tmp_path / "out.mp4", fps=25)
    writer.write(make_clip(t=2))
    assert writer.close() == tmp_path / "out.mp4"
    with pytest.raises(VideoWriteError, match="already closed"):
        writer.write(make_clip(t=1))


def test_temporary_name_until_closed(tmp_path):
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps=25) as writer:
        writer.write(make_clip(t=2))
        assert not path.exists()
        assert len(list(tmp_path.iterdir())) == 1  # the temporary file beside it
    assert path.exists() and probe(path).num_frames == 2


def test_comparison_video(tmp_path):
    source = make_clip(t=5, w=64, h=48)
    pose = make_clip(t=5, w=32, h=24, seed=1)  # half size: scaled up to the common height
    output = [make_clip(t=2, seed=2), make_clip(t=3, seed=3)]  # an iterable of batches
    columns = [source, iter(pose), output]
    path = write_comparison_video(tmp_path / "cmp.mp4", columns, ["source", "pose", "out"], 25)
    clip = read_video(path)
    band = 12  # label band height for a 48-pixel frame
    assert clip.frames.shape == (5, 48 + band, 3 * 64, 3)
    labels = clip.frames[:, :band].astype(int)
    assert labels.max() > 150 and np.median(labels) < 30  # white text on black
    assert psnr(clip.frames[:, band:, :64], source) > 25.0  # the first column is the source itself
    assert psnr(clip.frames[:, band:, 64:128], source) < 20.0  # the second one is not


def test_comparison_takes_chunked_clips(tmp_path):
    frames = make_clip(t=5)
    source = write_video(tmp_path / "src.mp4", frames, fps=25, lossless=True)
    chunks = iter_video_chunks(source, chunk_size=2)  # a column streamed from a file
    path = write_comparison_video(tmp_path / "cmp.mp4", [chunks, frames], ["file", "array"], 25, lossless=True)
    clip = read_video(path)
    band = clip.frames.shape[1] - 48
    np.testing.assert_array_equal(clip.frames[:, band:, :64], frames)
    np.testing.assert_array_equal(clip.frames[:, band:, 64:], frames)


def test_comparison_pads_to_even(tmp_path):
    path = write_comparison_video(tmp_path / "cmp.mp4", [make_clip(t=2, w=21, h=26)], ["a"], 25)
    info = probe(path)
    assert info.width % 2 == 0 and info.height % 2 == 0
    assert _pix_fmt(path) == "yuv420p"
