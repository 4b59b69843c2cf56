"""The web app: ``python -m fpdm_video.app``, a Gradio page over the same SignerTransfer API as the CLI.

- :mod:`.config`: the app's settings (a typed dataclass) and its command line;
- :mod:`.checkpoints`: the checkpoint folders a visitor may pick from;
- :mod:`.sessions`: one temporary folder per visitor, removed when the visitor leaves;
- :mod:`.runner`: one transfer, run in a worker thread, with progress and cancellation;
- :mod:`.ui`: the page and its event handlers (the only module that imports Gradio);
- :mod:`.server`: start-up (folders, example inputs, the default model) and Gradio's server.
"""
