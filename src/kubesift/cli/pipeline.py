"""``kubesift pipeline``: the retraining loop as a Kubeflow Pipeline."""

from __future__ import annotations

from pathlib import Path

import click

from kubesift.pipeline import DEFAULT_IMAGE, STEPS, PipelineOptions


@click.group("pipeline")
def pipeline_group() -> None:
    """The retraining loop as a Kubeflow Pipeline (needs `pip install 'kubesift[pipeline]'`).

    \b
    Four container steps in order, each `kubesift reconcile --once --step NAME` in the
    kubesift image: export -> train -> evaluate -> promote. They share the database
    (Secret kubesift-database, key database-url), the models volume (mounted at
    $KUBESIFT_HOME/models) and the desired state (ConfigMap kubesift-config) with the
    manifests in deploy/.

    \b
    Examples:
      kubesift pipeline compile --output kubesift-pipeline.yaml
      kubesift pipeline compile --output p.yaml --image registry.example.com/kubesift:0.2.0
    """


@pipeline_group.command("compile")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write the compiled pipeline (KFP IR YAML).",
)
@click.option("--image", default=DEFAULT_IMAGE, show_default=True, help="The kubesift image.")
@click.option(
    "--pvc",
    default=PipelineOptions.pvc,
    show_default=True,
    help="The models PersistentVolumeClaim (ReadWriteMany).",
)
@click.option(
    "--config-map",
    default=PipelineOptions.config_map,
    show_default=True,
    help="The ConfigMap holding kubesift.toml (the desired state).",
)
@click.option(
    "--database-secret",
    default=PipelineOptions.database_secret,
    show_default=True,
    help="The Secret whose key database-url is KUBESIFT_DATABASE_URL.",
)
@click.option(
    "--github-secret",
    default=PipelineOptions.github_secret,
    show_default=True,
    help="The Secret whose key token is GITHUB_TOKEN (optional in the cluster).",
)
def compile_command(
    output: Path,
    image: str,
    pvc: str,
    config_map: str,
    database_secret: str,
    github_secret: str,
) -> None:
    """Compile the pipeline to a file to upload to Kubeflow Pipelines."""

    from kubesift.pipeline import compile_pipeline

    options = PipelineOptions(
        image=image,
        pvc=pvc,
        config_map=config_map,
        database_secret=database_secret,
        github_secret=github_secret,
    )
    written = compile_pipeline(output, options)
    click.echo(f"wrote {written} ({' -> '.join(STEPS)}, image {image})")
