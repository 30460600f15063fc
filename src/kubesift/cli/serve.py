"""``kubesift serve``: the model server (KServe V1, V2 and the original contract)."""

from __future__ import annotations

import click

from kubesift import defaults
from kubesift.cli.common import settings, source_option
from kubesift.errors import UserError

DEFAULT_NAME = defaults.SERVED_NAME


@click.command("serve")
@click.option(
    "--model",
    "model",
    default=None,
    metavar="NAME[@VERSION]",
    help="Serve this model (default: production; NAME alone follows its latest version).",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--name",
    "served_name",
    default=DEFAULT_NAME,
    show_default=True,
    help="The model name in URLs (/v1/models/NAME:predict).",
)
@click.option(
    "--max-body-bytes",
    default=4 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1),
    help="Larger request bodies are refused with 413.",
)
@click.option(
    "--max-batch",
    default=64,
    show_default=True,
    type=click.IntRange(1),
    help="Most texts scored together when requests arrive concurrently.",
)
@click.option(
    "--poll-interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.05),
    help="Seconds between checks of the production pointer for a new version.",
)
@source_option
def serve_command(
    model: str | None,
    port: int,
    served_name: str,
    max_body_bytes: int,
    max_batch: int,
    poll_interval: float,
    source: str,
) -> None:
    """Serve the label model over HTTP with the KServe SDK's model server: KServe V1
    (/v1/models/NAME:predict), the Open Inference Protocol V2 (/v2/...), the original
    kubernetes-analysis contract ({"text": ...} -> {"result": p}), /metrics.

    \b
    Readiness (/v2/health/ready, /v1/models/NAME) is 503 until a model is loaded.
    When a new version is promoted (`kubesift models promote`) or, without a
    promotion, trained, the server loads it and switches without dropping requests.

    \b
    Examples:
      kubesift serve
      kubesift serve --model sift-linear@20260101T000000000000Z --port 9000
      kubesift serve --source items --port 8081     # for `kubesift bot --items-model-url`
      curl localhost:8080/v1/models/kubernetes-analysis:predict -d '{"text": "Fix a panic"}'
    """
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", served_name):
        raise UserError(f"--name must be letters, digits, '.', '_' or '-', not {served_name!r}")
    from kubesift.serve.server import import_sdk

    import_sdk()
    from kubesift.learn.pointer import ModelSpec
    from kubesift.serve.model import SiftModel
    from kubesift.serve.server import serve

    spec = ModelSpec.parse(model)
    if model is not None and spec.name is None:
        raise UserError(f"--model must look like NAME or NAME@VERSION, not {model!r}")
    sift = SiftModel(
        served_name,
        settings().models_dir_for(source),
        spec,
        poll_interval=poll_interval,
        max_batch=max_batch,
    )
    serve(sift, port, max_body_bytes)
