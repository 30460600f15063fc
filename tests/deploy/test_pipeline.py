"""`kubesift pipeline compile`: the Kubeflow pipeline compiled by a real process, offline."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kubesift.pipeline import DEFAULT_IMAGE, STEPS, PipelineOptions, step_args
from tests.conftest import run_cli
from tests.deploy.test_manifests import _context, _index, rendered

yaml = pytest.importorskip("yaml")

needs_kfp = pytest.mark.skipif(
    importlib.util.find_spec("kfp") is None or importlib.util.find_spec("kfp.kubernetes") is None,
    reason="the Kubeflow Pipelines SDK is not installed: pip install 'kubesift[pipeline]'",
)


def _compile(tmp_path: Path, *extra: str) -> tuple[dict[str, Any], dict[str, Any]]:
    out = tmp_path / "pipeline.yaml"
    result = run_cli("pipeline", "compile", "--output", str(out), *extra)
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    docs = [d for d in yaml.safe_load_all(out.read_text()) if d]
    spec = docs[0]
    platform = next((d for d in docs[1:] if "platforms" in d), {})
    return spec, platform


def _order(spec: dict[str, Any]) -> list[str]:
    """The tasks in dependency order (each must depend on exactly the one before)."""
    tasks = spec["root"]["dag"]["tasks"]
    roots = [name for name, t in tasks.items() if not t.get("dependentTasks")]
    assert len(roots) == 1, roots
    order = roots
    while len(order) < len(tasks):
        after = [n for n, t in tasks.items() if t.get("dependentTasks") == [order[-1]]]
        assert len(after) == 1, (order, after)
        order.append(after[0])
    return order


def _executor(spec: dict[str, Any], task: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    component = spec["components"][task["componentRef"]["name"]]
    label = component["executorLabel"]
    return label, spec["deploymentSpec"]["executors"][label]["container"]


@needs_kfp
def test_compile_four_steps_in_order(tmp_path: Path) -> None:
    spec, platform = _compile(tmp_path)
    assert spec["pipelineInfo"]["name"] == "kubesift-retrain"
    tasks = spec["root"]["dag"]["tasks"]
    order = _order(spec)
    assert [tasks[n]["taskInfo"]["name"] for n in order] == list(STEPS)
    assert list(STEPS) == ["export", "train", "evaluate", "promote"]
    k8s = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for name, step in zip(order, STEPS, strict=True):
        task = tasks[name]
        # Every run does the work again: no cached step results.
        assert not task.get("cachingOptions", {}).get("enableCache", False)
        label, container = _executor(spec, task)
        assert container["image"] == DEFAULT_IMAGE
        argv = container["command"] + container["args"]
        assert argv == ["kubesift", "reconcile", "--once", "--step", step]
        assert container["args"] == step_args(step)
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["KUBESIFT_HOME"] == "/var/lib/kubesift"
        assert env["KUBESIFT_CONFIG"] == "/etc/kubesift/kubesift.toml"
        assert {"resourceCpuLimit", "resourceMemoryLimit"} <= set(container["resources"])
        config = k8s[label]
        assert [(m["constant"], m["mountPath"]) for m in config["pvcMount"]] == [
            ("kubesift-models", "/var/lib/kubesift/models")
        ]
        assert [(c["configMapName"], c["mountPath"]) for c in config["configMapAsVolume"]] == [
            ("kubesift-config", "/etc/kubesift")
        ]
        secrets = {
            (s["secretName"], k["secretKey"], k["envVar"], s.get("optional", False))
            for s in config["secretAsEnv"]
            for k in s["keyToEnv"]
        }
        assert secrets == {
            ("kubesift-database", "database-url", "KUBESIFT_DATABASE_URL", False),
            ("kubesift-github", "token", "GITHUB_TOKEN", True),
        }


@needs_kfp
def test_compiled_steps_are_real_commands_and_names_match_deploy(tmp_path: Path) -> None:
    spec, _ = _compile(tmp_path)
    for task in spec["root"]["dag"]["tasks"].values():
        _, container = _executor(spec, task)
        ctx = _context(container["command"] + container["args"])
        assert ctx.command.name == "reconcile"
    # The PVC, ConfigMap and Secrets the steps use are the ones deploy/ creates.
    index = _index(rendered())
    defaults = PipelineOptions()
    assert ("PersistentVolumeClaim", defaults.pvc) in index
    assert ("ConfigMap", defaults.config_map) in index
    assert "kubesift.toml" in index[("ConfigMap", defaults.config_map)]["data"]
    assert "database-url" in index[("Secret", defaults.database_secret)]["data"]
    assert "token" in index[("Secret", defaults.github_secret)]["data"]
    images = {
        c["image"]
        for r in rendered()
        if r["kind"] == "Deployment"
        for c in r["spec"]["template"]["spec"]["containers"]
    }
    assert images == {defaults.image}


@needs_kfp
def test_compile_options(tmp_path: Path) -> None:
    spec, platform = _compile(
        tmp_path, "--image", "registry.example.com/kubesift:9.9", "--pvc", "other-models"
    )
    k8s = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for task in spec["root"]["dag"]["tasks"].values():
        label, container = _executor(spec, task)
        assert container["image"] == "registry.example.com/kubesift:9.9"
        assert k8s[label]["pvcMount"][0]["constant"] == "other-models"


@needs_kfp
def test_bad_output_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for target in (tmp_path / "missing" / "p.yaml", tmp_path):
        result = run_cli("pipeline", "compile", "--output", str(target))
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: --output"), result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "missing").exists()


def test_without_kfp_says_what_to_install(tmp_path: Path) -> None:
    # `None` in sys.modules makes `import kfp` fail, as if it were not installed.
    code = (
        "import sys; sys.modules['kfp'] = None; from kubesift.cli import main; "
        f"main(['pipeline', 'compile', '--output', {str(tmp_path / 'p.yaml')!r}])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "pip install 'kubesift[pipeline]'" in lines[0]
    assert not (tmp_path / "p.yaml").exists()


def test_kfp_is_imported_lazily() -> None:
    """Loading the CLI and the pipeline command imports no kfp; building the pipeline does
    (so the first assertion is about laziness, not about kfp being absent)."""
    pytest.importorskip("kfp", reason="the pipeline extra is not installed")
    code = (
        "import sys, kubesift.pipeline, kubesift.cli.pipeline; "
        "from kubesift.cli import cli; import click; "
        "cli.get_command(click.Context(cli), 'pipeline'); "
        "assert 'kfp' not in sys.modules, 'kfp imported at import time'; "
        "kubesift.pipeline._kfp(); "
        "assert 'kfp' in sys.modules, 'building the pipeline did not import kfp'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr


def test_help_lists_compile() -> None:
    result = run_cli("pipeline", "--help")
    assert result.returncode == 0
    assert "compile" in result.stdout
    result = run_cli("pipeline", "compile", "--help")
    assert result.returncode == 0
    for option in ("--output", "--image", "--pvc"):
        assert option in result.stdout
