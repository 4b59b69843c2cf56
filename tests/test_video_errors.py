"""Bad input gives VideoReadError / VideoWriteError with a message that says what is wrong."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest

from fpdm_video.errors import InputError, VideoReadError, VideoWriteError
from fpdm_video.video import VideoWriter, iter_video_chunks, probe, read_video, write_comparison_video, write_video
from factories_video import make_clip, write_frame_folder


@pytest.fixture()
def good_mp4(tmp_path):
    return write_video(tmp_path / "good.mp4", make_clip(t=30), fps=25)


def test_errors_are_input_errors():
    assert issubclass(VideoReadError, InputError) and issubclass(VideoWriteError, InputError)


# -- reading -----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(VideoReadError, match="video not found"):
        read_video(tmp_path / "nope.mp4")
    with pytest.raises(VideoReadError, match="video not found"):
        probe(tmp_path / "nope")


def test_text_file_is_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    with pytest.raises(VideoReadError, match="cannot be opened as a video") as caught:
        read_video(path)
    message = str(caught.value)  # FFmpeg's reason in words, not its error number, and the path once
    assert "Errno" not in message and "invalid data found" in message and message.count(str(path)) == 1


def test_random_bytes_are_not_a_video(tmp_path):
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    with pytest.raises(VideoReadError, match="cannot be opened as a video"):
        read_video(path)


@pytest.mark.parametrize("backend", ["auto", "decord", "pyav"])
def test_mp4_cut_in_half(good_mp4, tmp_path, backend):
    data = good_mp4.read_bytes()
    path = tmp_path / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoReadError, match="truncated"):
        read_video(path, backend=backend)


def test_mp4_with_garbage_in_its_frames(good_mp4, tmp_path):
    data = bytearray(good_mp4.read_bytes())
    n = len(data)
    data[n // 2 :] = np.random.default_rng(1).integers(0, 256, n - n // 2, dtype=np.uint8).tobytes()
    path = tmp_path / "garbage.mp4"
    path.write_bytes(bytes(data))
    assert probe(path).num_frames == 30  # the index is intact ...
    with pytest.raises(VideoReadError, match="corrupt"):  # ... the frame data is not
        read_video(path)
    delivered = []
    with pytest.raises(VideoReadError, match="corrupt"):
        for clip in iter_video_chunks(path, chunk_size=4):
            delivered.append(clip)
    assert 0 < sum(len(c) for c in delivered) < 30  # frames before the damage are intact
    intact = read_video(good_mp4).frames
    for clip in delivered:
        np.testing.assert_array_equal(clip.frames, intact[clip.start_index : clip.end_index])


def test_mp4_cut_in_half_fails_only_where_the_data_ends(good_mp4, tmp_path):
    """Chunks before the damage are still delivered; the error comes where decoding fails."""
    data = good_mp4.read_bytes()
    path = tmp_path / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    chunks = []
    with pytest.raises(VideoReadError):
        for clip in iter_video_chunks(path, chunk_size=4):
            chunks.append(clip)
    assert sum(len(c) for c in chunks) < 30


def test_zero_frame_video(tmp_path):
    path = tmp_path / "empty.mp4"
    container = av.open(str(path), mode="w")
    stream = container.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    container.start_encoding()
    container.close()  # a valid mp4 holding no frame
    with pytest.raises(VideoReadError, match="no frames"):
        read_video(path)


def test_empty_frame_folder(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "readme.txt").write_text("no images here")
    with pytest.raises(VideoReadError, match="no PNG/JPEG frames"):
        read_video(folder)


def test_mixed_frame_sizes_in_folder(tmp_path):
    folder = write_frame_folder(tmp_path / "frames", make_clip(t=3, w=64, h=48))
    write_frame_folder(folder, make_clip(t=1, w=62, h=48), name="images{:04d}_late.png")
    with pytest.raises(VideoReadError, match="mixes frame sizes"):
        read_video(folder)


def test_broken_image_in_folder(tmp_path):
    folder = write_frame_folder(tmp_path / "frames", make_clip(t=2))
    (folder / "images0003.png").write_bytes(b"not a png")
    with pytest.raises(VideoReadError, match="images0003.png"):
        read_video(folder)


@pytest.mark.parametrize(("start", "end"), [(-1, None), (30, None), (5, 5), (0, 31), (1.5, None), (0, 2.0)])
def test_bad_frame_range(good_mp4, start, end):
    with pytest.raises(VideoReadError, match="start|end"):
        read_video(good_mp4, start=start, end=end)


def test_bad_chunk_size_and_backend(good_mp4):
    with pytest.raises(VideoReadError, match="chunk_size"):
        iter_video_chunks(good_mp4, chunk_size=0)
    with pytest.raises(VideoReadError, match="backend"):
        read_video(good_mp4, backend="opencv")


# -- writing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (make_clip(t=2).astype(np.float32) / 255, "uint8"),
        (make_clip(t=1)[0, :, :, 0], "shape"),
        (np.zeros((2, 48, 64, 4), np.uint8), "shape"),
    ],
)
def test_writer_rejects_bad_frames(tmp_path, frames, message):
    with pytest.raises(VideoWriteError, match=message):
        write_video(tmp_path / "out.mp4", frames, fps=25)
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_size_change(tmp_path):
    with pytest.raises(VideoWriteError, match="one size"):
        with VideoWriter(tmp_path / "out.mp4", fps=25) as writer:
            writer.write(make_clip(t=2, w=64, h=48))
            writer.write(make_clip(t=2, w=32, h=48))
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_frames_of_another_size_than_declared(tmp_path):
    with pytest.raises(VideoWriteError, match="opened for 32x32"):
        with VideoWriter(tmp_path / "out.mp4", fps=25, width=32, height=32) as writer:
            writer.write(make_clip(t=1))
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_no_frames(tmp_path):
    with pytest.raises(VideoWriteError, match="no frames"):
        with VideoWriter(tmp_path / "out.mp4", fps=25):
            pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fps": 0}, "fps"),
        ({"fps": float("nan")}, "fps"),
        ({"fps": 25, "crf": 60}, "crf"),
        ({"fps": 25, "preset": "fastest"}, "preset"),
        ({"fps": 25, "timestamps": [0.0, 0.1, 0.1]}, "strictly increasing"),
    ],
)
def test_writer_rejects_bad_settings(tmp_path, kwargs, message):
    with pytest.raises(VideoWriteError, match=message):
        VideoWriter(tmp_path / "out.mp4", **kwargs)


def test_writer_checks_timestamp_count(tmp_path):
    with pytest.raises(VideoWriteError, match="timestamps"):
        write_video(tmp_path / "out.mp4", make_clip(t=3), fps=25, timestamps=[0.0, 0.04])
    with pytest.raises(VideoWriteError, match="timestamps"):
        write_video(tmp_path / "out.mp4", make_clip(t=3), fps=25, timestamps=[0.0, 0.04, 0.08, 0.12])
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_unknown_suffix(tmp_path):
    with pytest.raises(VideoWriteError, match="suffix"):
        write_video(tmp_path / "out.gif", make_clip(t=2), fps=25)


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(VideoWriteError, match="cannot write"):
        write_video(blocker / "out.mp4", make_clip(t=2), fps=25)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_output_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(VideoWriteError, match="not writable"):
            write_video(folder / "out.mp4", make_clip(t=2), fps=25)
    finally:
        folder.chmod(0o700)


def test_comparison_rejects_unequal_columns(tmp_path):
    with pytest.raises(VideoWriteError, match="differ in length"):
        write_comparison_video(tmp_path / "cmp.mp4", [make_clip(t=3), make_clip(t=2)], ["a", "b"], 25)
    with pytest.raises(VideoWriteError, match="one label per column"):
        write_comparison_video(tmp_path / "cmp.mp4", [make_clip(t=3)], ["a", "b"], 25)
    assert list(tmp_path.iterdir()) == []
