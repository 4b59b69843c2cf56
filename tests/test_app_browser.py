"""The web app in a real browser: ``python -m fpdm_video.app`` on a free loopback port with the tiny checkpoint,
driven by headless Chromium (Debian's ``chromium``, installed by ``make install``) through Playwright.

A transfer of the shared real video is downloaded and its frames counted; a file that is not a video
shows the CLI's one-line error, and the next run's message replaces it (an out-of-range number, then a
good run); an upload over the limit is refused; a run cancelled midway leaves no files, with one
progress bar while it renders and cancel on only while a run goes; a visitor who leaves (after a run, or during one) takes their folder along. The page's screenshot is kept as a test artefact (in pytest's temporary folder,
or $FPDM_TEST_ARTEFACTS).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from factories_transfer import tiny_checkpoint  # noqa: F401 (fixtures)
from fpdm_video.video import probe

REPO_ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.real_data, pytest.mark.timeout(600)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]  # fmt: skip
TIMEOUT_MS = 180_000  # one transfer on a busy 2-core machine, with room to spare


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, step: float = 0.25):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_checkpoint):  # noqa: F811
    """The app's URL and work folder; the server is stopped (SIGTERM) after the module."""
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (make install installs Debian's package as root)")
    pytest.importorskip("playwright")
    work = tmp_path_factory.mktemp("app")
    port = free_port()
    log = (work.parent / "app-server.log").open("w")
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_TEMP_DIR", None)  # Gradio's cache inside the work folder, where the tests look
    proc = subprocess.Popen([sys.executable, "-m", "fpdm_video.app", "--port", str(port), "--checkpoint", str(tiny_checkpoint),
                             "--work-dir", str(work), "--batch-size", "2", "--max-frames", "60", "--max-upload-mb", "3", "--device", "cpu"],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the app exited with {proc.returncode}: {Path(log.name).read_text()[-3000:]}")
        try:
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_until(up, 180, "the app to start")
        yield url, work
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 1400}, accept_downloads=True)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("#run")
    return page


def fill(page, video: Path, photo: Path, **numbers) -> None:
    page.locator("#input-file input[type=file]").set_input_files(str(video))
    page.locator("#photo-file input[type=file]").set_input_files(str(photo))
    for field, value in numbers.items():
        page.locator(f"#{field} input").fill(str(value))
    for box in ("#input-file", "#photo-file"):  # uploaded: the box offers to clear it
        page.locator(f"{box} button[aria-label=Clear]").wait_for()


def status(page) -> str:
    return page.inner_text("#status")


def buttons(page) -> tuple[bool, bool]:
    """Whether transfer and cancel can be pressed."""
    return page.locator("#run").is_enabled(), page.locator("#cancel").is_enabled()


def session_files(work: Path) -> list[Path]:
    """The files under the visitors' folders; a folder the app removes while this walks it counts as gone (asked again)."""
    root = work / "sessions"
    for _ in range(10):
        try:
            return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        except FileNotFoundError:  # removed between listing and reading: look again
            continue
    raise AssertionError(f"{root} kept changing while it was listed")


def test_transfer_downloads_a_video_of_the_asked_frames(app, browser, real_data, tmp_path):
    url, work = app
    page = open_page(browser, url)
    assert buttons(page) == (True, False)  # nothing runs: nothing to cancel
    fill(page, real_data / "test_video.mp4", real_data / "fake_human.png", **{"max-frames": 4})
    page.click("#run")
    page.wait_for_selector("#output-video video[src]")
    assert status(page).startswith("done: 4 frames (video at 29.")  # the video's frame rate, said as such
    wait_until(lambda: buttons(page) == (True, False), 30, "cancel to be switched off after the run")
    with page.expect_download() as info:
        page.locator('#downloads a[download="test_video__fake_human.mp4"]').click()
    video = tmp_path / "downloaded.mp4"
    info.value.save_as(video)
    assert probe(video).num_frames == 4
    record = json.loads(page.request.get(page.locator('#downloads a[download$=".json"]').get_attribute("href")).body())
    assert record["frames"] == 4 and record["checkpoint"]["name"] == "tiny"
    assert sorted(p.suffix for p in session_files(work)) == [".json", ".mp4", ".mp4", ".pose"]

    artefacts = Path(os.environ.get("FPDM_TEST_ARTEFACTS") or tmp_path)
    artefacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artefacts / "app.png"), full_page=True)
    print(f"screenshot: {artefacts / 'app.png'}")

    page.close()  # the visitor leaves: their folder goes
    wait_until(lambda: session_files(work) == [], 180, "the visitor's folder to be removed")


def test_a_file_that_is_not_a_video_shows_the_clis_error(app, browser, real_data, tmp_path):
    url, work = app
    notes = tmp_path / "notes.txt"
    notes.write_text("these are notes, not a video\n")
    page = open_page(browser, url)
    fill(page, notes, real_data / "fake_human.png")
    page.click("#run")
    page.wait_for_selector("#status >> text=error:")
    shown = status(page).strip()
    assert shown.startswith("error: notes.txt cannot be opened as a video: it is not a file the video decoder can read")
    assert "give a video file" in shown and "Errno" not in shown
    assert "\n" not in shown and str(work) not in shown  # one line, as the CLI prints it, naming the upload, not the server's path
    assert session_files(work) == [] and page.locator("#output-video video").count() == 0

    page.locator("#input-file button[aria-label=Clear]").click()  # a new run with an out-of-range number: its own message, alone
    page.locator("#input-file input[type=file]").set_input_files(str(real_data / "test_video.mp4"))
    page.locator("#input-file button[aria-label=Clear]").wait_for()
    page.locator("#steps input").fill("-3")
    page.click("#run")
    page.wait_for_selector("#status >> text=steps must")
    assert status(page).strip() == "error: steps must be 0 or more, got -3"
    assert page.locator(".toast-body").count() == 0 and page.get_by_text("Error", exact=True).count() == 0  # no notice of Gradio's
    page.locator("#steps input").fill("0")  # and a good run clears it
    page.locator("#max-frames input").fill("2")
    page.click("#run")
    page.wait_for_selector("#output-video video[src]")
    assert status(page).startswith("done: 2 frames") and "error" not in status(page)
    page.close()


def test_cancel_midway_leaves_no_files(app, browser, real_data):
    url, work = app
    page = open_page(browser, url)
    page.locator("#speed label", has_text="paper").click()  # 20 steps per frame: long enough to cancel midway
    fill(page, real_data / "test_video.mp4", real_data / "fake_human.png")
    cached = set((work / "gradio").rglob("*"))
    page.click("#run")
    wait_until(lambda: "rendering: frame" in status(page) and not status(page).endswith("frame 0 of 58"), TIMEOUT_MS / 1000,
               "the first frames")  # fmt: skip
    assert buttons(page) == (False, True)  # a run goes: cancel on, transfer off
    bars = page.locator(".progress-bar")
    wait_until(lambda: bars.count() >= 1, 30, "the progress bar")  # Gradio draws it at the run's next progress update
    assert bars.count() == 1 and page.locator("#output-video .progress-bar").count() == 1  # one progress bar, over the output
    page.click("#cancel")
    page.wait_for_selector("#status >> text=cancelled")
    wait_until(lambda: buttons(page) == (True, False), 30, "cancel to be switched off after the cancel")
    assert session_files(work) == []
    assert page.locator("#output-video video").count() == 0
    assert [p.name for p in set((work / "gradio").rglob("*")) - cached if "__" in p.name] == []  # nor Gradio's cache
    page.close()


def test_uploads_over_the_limit_are_refused(app, browser, tmp_path):
    url, work = app
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (4 * 1024 * 1024))  # the app was started with --max-upload-mb 3
    page = open_page(browser, url)
    page.locator("#input-file input[type=file]").set_input_files(str(big))
    page.get_by_text('exceed the maximum allowed size of 3.0 Mb: "big.mp4"').wait_for()
    assert not any(p.name == "big.mp4" for p in work.rglob("*"))
    page.close()


def test_a_visitor_leaving_midway_stops_the_run_and_takes_the_folder(app, browser, real_data):
    url, work = app
    page = open_page(browser, url)
    page.locator("#speed label", has_text="paper").click()
    fill(page, real_data / "test_video.mp4", real_data / "fake_human.png")
    page.click("#run")
    wait_until(lambda: "rendering: frame" in status(page) and not status(page).endswith("frame 0 of 58"), TIMEOUT_MS / 1000,
               "the first frames")  # fmt: skip
    assert session_files(work) != []  # the run's temporary files
    page.close()
    wait_until(lambda: session_files(work) == [], 180, "the visitor's folder to be removed")  # after the run has stopped
