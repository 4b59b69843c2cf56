"""The README's screenshot of the web app: ``python scripts/app_screenshot.py --out docs/images/app.png``.

Starts ``python -m fpdm_video.app`` (the embedded demo model) on a free loopback port, clicks the
generated example inputs, runs the transfer and photographs the page once the output video is
there, with headless Chromium (the system's ``chromium``) through Playwright.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"error: the app exited with {proc.returncode}")
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("error: the app did not start in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/app.png"), help="PNG to write")
    parser.add_argument("--speed", default="fast", choices=("paper", "balanced", "fast"), help="speed preset of the run shown")
    parser.add_argument("--width", type=int, default=1280, help="browser window width")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("error: no chromium on PATH (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory(prefix="fpdm-app-shot-") as work:
        proc = subprocess.Popen([sys.executable, "-m", "fpdm_video.app", "--port", str(port), "--work-dir", work, "--speed", args.speed])
        try:
            wait_up(url, proc)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
                page = browser.new_page(viewport={"width": args.width, "height": 1200})
                page.set_default_timeout(600_000)
                page.goto(url)
                page.wait_for_selector("#run")
                page.get_by_text("driving.mp4").first.click()  # the example row: video, photo and poses at once
                for box in ("#input-file", "#photo-file"):
                    page.locator(f"{box} button[aria-label=Clear]").wait_for()
                page.click("#run")
                page.wait_for_selector("#output-video video[src]")
                page.wait_for_selector("#status >> text=done:")
                page.wait_for_timeout(1500)  # the first frames of both videos drawn
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out), full_page=True)
                print(page.inner_text("#status"))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(60)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
