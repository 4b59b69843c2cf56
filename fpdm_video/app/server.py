"""Start the app: its folders, the example inputs, the checkpoints offered, then Gradio's server (blocks until stopped)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from fpdm_video.app.checkpoints import checkpoint_choices
from fpdm_video.app.config import AppConfig

logger = logging.getLogger("fpdm_video.app")


def prepare_work_dir(config: AppConfig) -> tuple[Path, bool]:
    """The work folder and whether this run made it (then it is removed on exit)."""
    if config.work_dir is None:
        return Path(tempfile.mkdtemp(prefix="fpdm-app-")), True
    from fpdm_video.atomic import check_writable_dir

    work = Path(config.work_dir).expanduser().resolve()
    check_writable_dir(work)
    return work, False


def example_rows(folder: Path) -> list[list[str]]:
    """The generated example inputs as one row of the page's examples: driving video, photo, driving poses."""
    from fpdm_video.data.examples import make_example_inputs

    ex = make_example_inputs(folder, frames=16, size=(192, 256), seed=0)  # the demo's inputs (fpdm_video.demo)
    return [[str(ex.video), str(ex.signer_image), str(ex.poses)]]


def serve(config: AppConfig) -> None:
    """Run the app until Ctrl-C or SIGTERM; removes what it made on the way out."""
    checkpoints = checkpoint_choices(config.checkpoints, config.checkpoint_dirs, include_demo=config.include_demo)
    work, made = prepare_work_dir(config)
    sessions_root = work / "sessions"
    cache = None if os.environ.get("GRADIO_TEMP_DIR") else work / "gradio"  # Gradio's uploads and result copies, unless set already
    try:
        if cache is not None:
            os.environ["GRADIO_TEMP_DIR"] = str(cache)  # before Gradio builds its components
        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        from fpdm_video.app.runner import ModelCache, TransferRunner
        from fpdm_video.app.sessions import Sessions
        from fpdm_video.app.ui import build_app, page_theme

        examples = example_rows(work / "examples") if config.examples else None
        runner = TransferRunner(ModelCache(config.device, config.dtype), config.max_frames)
        runner.models.get(next(iter(checkpoints.values())))  # the default model, loaded before the first visitor waits for it
        app = build_app(config, checkpoints, runner, Sessions(sessions_root), examples)
        logger.info("checkpoints offered: %s", ", ".join(f"{k} ({v})" for k, v in checkpoints.items()))
        logger.info("work folder: %s (%s on exit)", work, "removed" if made else "its visitor folders and Gradio cache removed")
        app.launch(server_name=config.host, server_port=config.port, share=config.share, max_file_size=config.max_upload_bytes,
                   allowed_paths=[str(sessions_root), str(work / "examples")], theme=page_theme(), footer_links=[],
                   show_error=False, quiet=False)  # fmt: skip
    finally:
        for folder in [work] if made else [sessions_root, cache]:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
