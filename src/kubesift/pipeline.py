"""The retraining loop as a Kubeflow Pipeline: export → train → evaluate → promote.

Each step is a container running the kubesift image with ``kubesift reconcile --once --step
NAME``, so a pipeline run does exactly what the reconcile CronJob does, one step per pod,
with the same state: the database (``KUBESIFT_DATABASE_URL`` from a Secret), the models
volume (``$KUBESIFT_HOME/models``, a ReadWriteMany PersistentVolumeClaim) and the desired
state (kubesift.toml from a ConfigMap, ``KUBESIFT_CONFIG``). The names default to those of
``deploy/base``.

The kfp SDK (``pip install 'kubesift[pipeline]'``) is imported only when a pipeline is
built, never when this module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubesift.errors import UserError

STEPS = ("export", "train", "evaluate", "promote")
PIPELINE_NAME = "kubesift-retrain"
DEFAULT_IMAGE = "ghcr.io/kubesift/kubesift:0.1.0"
HOME = "/var/lib/kubesift"
CONFIG_DIR = "/etc/kubesift"
INSTALL_HINT = "the pipeline needs the Kubeflow Pipelines SDK: pip install 'kubesift[pipeline]'"

# Resources per step: training and evaluation hold the examples and the models in memory.
_RESOURCES = {
    "export": ("500m", "1", "512Mi", "2Gi"),
    "train": ("1", "2", "2Gi", "6Gi"),
    "evaluate": ("1", "2", "2Gi", "6Gi"),
    "promote": ("250m", "1", "512Mi", "1Gi"),
}


@dataclass(frozen=True)
class PipelineOptions:
    image: str = DEFAULT_IMAGE
    pvc: str = "kubesift-models"
    config_map: str = "kubesift-config"
    database_secret: str = "kubesift-database"
    github_secret: str = "kubesift-github"


def step_args(step: str) -> list[str]:
    """The ``kubesift`` arguments one pipeline step runs."""
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}")
    return ["reconcile", "--once", "--step", step]


def _kfp() -> tuple[Any, Any, Any]:
    try:
        from kfp import compiler, dsl, kubernetes
    except ImportError as exc:
        raise UserError(INSTALL_HINT) from exc
    return compiler, dsl, kubernetes


def _component(dsl: Any, step: str, image: str) -> Any:
    """A container component for one step (its name becomes the component's name)."""

    def component():  # kfp reads the (empty) signature: no inputs, no outputs
        return dsl.ContainerSpec(image=image, command=["kubesift"], args=step_args(step))

    component.__name__ = f"kubesift_{step}"
    component.__qualname__ = component.__name__
    component.__doc__ = f"kubesift reconcile --once --step {step}"
    return dsl.container_component(component)


def build_pipeline(options: PipelineOptions | None = None) -> Any:
    """The kfp pipeline function (a ``GraphComponent``), ready to compile or submit."""
    opts = options or PipelineOptions()
    _, dsl, kubernetes = _kfp()
    components = {step: _component(dsl, step, opts.image) for step in STEPS}

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="kubesift retraining: export -> train -> evaluate -> promote "
        "(kubesift reconcile --once --step NAME), sharing the database and the models volume.",
    )
    def retrain():
        previous = None
        for step in STEPS:
            task = components[step]().set_display_name(step)
            # Every step changes the store or the registry: never reuse a cached result.
            task.set_caching_options(False)
            cpu_request, cpu_limit, memory_request, memory_limit = _RESOURCES[step]
            task.set_cpu_request(cpu_request).set_cpu_limit(cpu_limit)
            task.set_memory_request(memory_request).set_memory_limit(memory_limit)
            task.set_env_variable("KUBESIFT_HOME", HOME)
            task.set_env_variable("KUBESIFT_CONFIG", f"{CONFIG_DIR}/kubesift.toml")
            kubernetes.mount_pvc(task, pvc_name=opts.pvc, mount_path=f"{HOME}/models")
            kubernetes.use_config_map_as_volume(
                task, config_map_name=opts.config_map, mount_path=CONFIG_DIR
            )
            kubernetes.use_secret_as_env(
                task,
                secret_name=opts.database_secret,
                secret_key_to_env={"database-url": "KUBESIFT_DATABASE_URL"},
            )
            kubernetes.use_secret_as_env(
                task,
                secret_name=opts.github_secret,
                secret_key_to_env={"token": "GITHUB_TOKEN"},
                optional=True,
            )
            if previous is not None:
                task.after(previous)
            previous = task

    return retrain


def compile_pipeline(output: Path, options: PipelineOptions | None = None) -> Path:
    """Compile the pipeline to KFP's IR YAML at ``output``."""
    compiler, _, _ = _kfp()
    if not output.parent.is_dir():
        raise UserError(f"--output: directory {output.parent} does not exist")
    if output.is_dir():
        raise UserError(f"--output: {output} is a directory")
    pipeline = build_pipeline(options)
    try:
        compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(output))
    except OSError as exc:
        raise UserError(f"--output: cannot write {output}: {exc.strerror}") from exc
    return output
