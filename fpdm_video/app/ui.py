"""The page: inputs, settings, examples, a run with live progress and cancel, results to download.

Runs go through Gradio's queue one at a time (concurrency 1: one transfer per device); waiting
visitors see their place in the queue. Each visitor's files live in their own folder
(:mod:`fpdm_video.app.sessions`), removed when they leave (the page's unload event).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
from PIL import Image

from fpdm_video.app.config import AppConfig
from fpdm_video.app.form import NOT_GIVEN, SPEEDS, done_message, field_kind, page_help, public_message, run_request_fields, sampling_fields
from fpdm_video.app.runner import Progress, RunCancelled, RunRequest, TransferRunner
from fpdm_video.app.sessions import Sessions
from fpdm_video.errors import InputError

logger = logging.getLogger("fpdm_video.app")

STAGE_TEXT = {"waiting": "starting", "checking": "checking the inputs", "loading": "loading the model",
              "poses": "finding the poses", "rendering": "rendering", "done": "writing the files"}  # fmt: skip
POLL_S = 0.25  # how often a running transfer's progress is read
CANCELLED = "cancelled: the run stopped and left no files"
QUEUED = "waiting to start"  # from the click until the queue starts the run (a place in the queue shows over the output)
FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]  # local fonts: the page loads nothing from the internet


@dataclass
class Active:
    """The transfers running now, by visitor: how to cancel each and when it has ended."""

    runs: dict[str, tuple[threading.Event, threading.Event]] = field(default_factory=dict)  # session -> (cancel, finished)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, session: str) -> tuple[threading.Event, threading.Event]:
        with self.lock:
            events = self.runs[session] = (threading.Event(), threading.Event())
            return events

    def end(self, session: str, events: tuple[threading.Event, threading.Event]) -> None:
        events[1].set()
        with self.lock:
            if self.runs.get(session) is events:
                del self.runs[session]

    def stop(self, session: str, timeout: float = 120.0) -> None:
        """Cancel the visitor's transfer, if one runs, and wait until it has cleaned up."""
        with self.lock:
            events = self.runs.get(session)
        if events is not None:
            events[0].set()
            events[1].wait(timeout)


def page_theme() -> gr.themes.Base:
    """Gradio's default look with local fonts (Gradio 6 takes the theme at launch)."""
    return gr.themes.Default(font=FONTS, font_mono=["ui-monospace", "monospace"])


def photo_preview(photo) -> str | None:
    """The photo's path when it can be shown as an image (else no preview)."""
    if not photo:
        return None
    path = str(getattr(photo, "path", None) or getattr(photo, "name", None) or photo)
    try:
        with Image.open(path) as im:
            im.verify()
    except Exception:  # noqa: BLE001 - any unreadable file simply has no preview; the run says what is wrong
        return None
    return path


FIRST_ROW = ("steps", "guidance", "seed")  # the sampling settings shown beside the speed; the rest are in an accordion


def sampling_control(field, config: AppConfig):
    """The page's control of one sampling field (its help as the control's info line).

    Number boxes have no ``minimum``: Gradio would refuse a smaller number before the run starts, with a
    notice of its own and the previous run's message left standing; the page's own check
    (:mod:`fpdm_video.app.form`) says what is wrong in the status line instead.
    """
    name = field.metadata["flag"].lstrip("-").replace("-", " ")
    info = page_help(field.metadata["help"])
    elem_id = field.name.replace("_", "-")
    kind = field_kind(field)
    if field.name == "speed":
        return gr.Radio(choices=list(SPEEDS), value=config.default_speed, label="speed", info=info, elem_id=elem_id)
    if kind == "choice":
        return gr.Dropdown(choices=[NOT_GIVEN, *field.metadata["choices"]], value=NOT_GIVEN, label=name, info=info, elem_id=elem_id)
    if kind == "pair":
        return gr.Textbox(value="", label=f"{name} (LO HI; empty: the preset's)", info=info, elem_id=elem_id)
    value = config.batch_size if field.name == "batch_size" else 0
    unset = "" if field.name == "seed" else " (0: the preset's or checkpoint's)"
    return gr.Number(value=value, precision=0 if kind == "int" else None, label=name + unset, info=info, elem_id=elem_id)


def build_app(config: AppConfig, checkpoints: dict[str, Path], runner: TransferRunner, sessions: Sessions,
              examples: list[list[str]] | None = None) -> gr.Blocks:  # fmt: skip
    """The Gradio page (not launched)."""
    active = Active()
    labels = list(checkpoints)

    controls: dict = {}  # role or sampling field name -> component, filled below

    async def run(values: dict, request: gr.Request, progress=gr.Progress()):
        page = {role: values[component] for role, component in controls.items()}
        session = request.session_hash or "anonymous"
        files = (page["input_file"], page["photo_file"], page["poses_file"])
        names = {str(getattr(f, "path", f)): Path(str(getattr(f, "path", f))).name for f in files if f}
        try:
            if page["checkpoint"] not in checkpoints:
                raise InputError(f"checkpoint {page['checkpoint']!r} is not one of those offered")
            req = RunRequest(**run_request_fields(
                input_file=page["input_file"], photo_file=page["photo_file"], poses_file=page["poses_file"],
                checkpoint=checkpoints[page["checkpoint"]], sampling={f.name: page[f.name] for f in sampling_fields()},
                start=page["start"], end=page["end"], max_frames=page["max_frames"], retarget=page["retarget"]))  # fmt: skip
        except InputError as exc:
            yield public_message(str(exc), names), None, None, None
            return
        folder = sessions.new_run(session)
        state = Progress()
        events = active.begin(session)
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(None, lambda: runner.run(req, folder, cancelled=events[0], progress=state))
        yield "starting", None, None, None
        shown = None
        try:
            while not job.done():
                await asyncio.wait({job}, timeout=POLL_S)
                if state.stage == "rendering" and state.total:
                    progress((state.done, state.total), desc="rendering frames", unit="frames")
                else:
                    progress(None, desc=STAGE_TEXT.get(state.stage, state.stage))
                text = STAGE_TEXT.get(state.stage, state.stage) + (f": frame {state.done} of {state.total}" if state.stage == "rendering" else "")
                if text != shown:
                    shown = text
                    yield text, gr.skip(), gr.skip(), gr.skip()
            outputs, record = job.result()
        except (asyncio.CancelledError, GeneratorExit):  # the cancel button, or the visitor left: stop and clean up first
            events[0].set()
            await asyncio.wait({job})
            raise
        except RunCancelled:
            yield CANCELLED, None, None, None
            return
        except InputError as exc:
            yield public_message(str(exc), names), None, None, None
            return
        except Exception as exc:  # noqa: BLE001 - a bug: the log has the traceback, the page one line
            logger.exception("transfer failed")
            yield f"error: the transfer failed ({type(exc).__name__}); the server's log has the details", None, None, None
            return
        finally:
            active.end(session, events)
        yield done_message(record), str(outputs.video), str(outputs.comparison), [str(p) for p in outputs.all()]

    def run_started():
        """At the click, before the queue: the previous run's message goes, transfer is off and cancel on until the run ends."""
        return QUEUED, gr.Button(interactive=False), gr.Button(interactive=True)

    def run_ended():
        return gr.Button(interactive=True), gr.Button(interactive=False)

    def cancel(request: gr.Request):
        active.stop(request.session_hash or "anonymous")
        return CANCELLED, *run_ended()

    def leave(request: gr.Request):
        session = request.session_hash or "anonymous"
        active.stop(session)
        sessions.remove(session)

    with gr.Blocks(title="fpdm-video: signer transfer", analytics_enabled=False,
                   delete_cache=(config.cache_sweep_s, config.cache_max_age_s)) as app:  # fmt: skip
        gr.Markdown("## fpdm-video: signer transfer\nThe signing of a video, performed by the person in a photo "
                    "(holistic poses with MediaPipe, rendered frame by frame with FPDM).")  # fmt: skip
        with gr.Row():
            with gr.Column():
                input_file = gr.File(label="signing: a video or a .pose file", elem_id="input-file")
                photo_file = gr.File(label="photo of the new signer", elem_id="photo-file")
                preview = gr.Image(label="photo", interactive=False, height=200, elem_id="photo-preview", buttons=[])
                with gr.Accordion("poses of the video (optional)", open=False):
                    poses_file = gr.File(label="poses (.pose, the video's frame count) instead of extracting them", elem_id="poses-file")
            with gr.Column():
                checkpoint = gr.Dropdown(choices=labels, value=labels[0], label="checkpoint", elem_id="checkpoint")
                fields = {f.name: f for f in sampling_fields()}
                controls["speed"] = sampling_control(fields["speed"], config)
                with gr.Row():
                    for name in FIRST_ROW:
                        controls[name] = sampling_control(fields[name], config)
                with gr.Accordion("more sampling settings (the command line's sampling options)", open=False):
                    for name, field in fields.items():
                        if name != "speed" and name not in FIRST_ROW:
                            controls[name] = sampling_control(field, config)
                with gr.Row():
                    start = gr.Number(label="start frame", value=0, precision=0, elem_id="start")
                    end = gr.Number(label="end frame (0: the last)", value=0, precision=0, elem_id="end")
                    max_frames = gr.Number(label=f"max frames (0: all; at most {config.max_frames})", value=0, precision=0,
                                           elem_id="max-frames")  # fmt: skip
                retarget = gr.Checkbox(value=True, label="retarget: the new signer's body proportions", elem_id="retarget")
                with gr.Row():
                    go = gr.Button("transfer", variant="primary", elem_id="run")
                    stop = gr.Button("cancel", variant="stop", elem_id="cancel", interactive=False)  # on only while a run goes
                status = gr.Markdown("", elem_id="status")
        if examples:
            gr.Examples(examples=examples, inputs=[input_file, photo_file, poses_file], label="example inputs (generated)",
                        examples_per_page=4)  # fmt: skip
        with gr.Row():
            video = gr.Video(label="output", elem_id="output-video", interactive=False, height=420)
            comparison = gr.Video(label="comparison: driving | pose | output", elem_id="comparison-video", interactive=False, height=420)
        downloads = gr.File(label="downloads: output, comparison, record (JSON), poses", file_count="multiple", interactive=False,
                            elem_id="downloads")  # fmt: skip

        photo_file.change(photo_preview, inputs=photo_file, outputs=preview, queue=False)
        controls.update(input_file=input_file, photo_file=photo_file, poses_file=poses_file, checkpoint=checkpoint, start=start,
                        end=end, max_frames=max_frames, retarget=retarget)  # fmt: skip
        started = go.click(run_started, outputs=[status, go, stop], queue=False)
        event = started.then(run, inputs=set(controls.values()), outputs=[status, video, comparison, downloads],
                             concurrency_limit=1, concurrency_id="transfer", show_progress_on=[video])  # one progress bar: over the output
        event.then(run_ended, outputs=[go, stop], queue=False)  # fmt: skip
        stop.click(cancel, outputs=[status, go, stop], cancels=[event], queue=False)
        app.unload(leave)
    app.queue(max_size=config.queue_size, default_concurrency_limit=1)
    return app
