"""deploy/ checked offline: every manifest parses, the kustomizations render (kubectl when
installed, the pure-Python renderer everywhere), references between workloads, Secrets,
ConfigMaps, PVCs, ports and probes resolve, the commands exist in the kubesift CLI, and the
objects fit the Kubernetes / KServe API models."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from kubesift.cli import cli
from tests.deploy.kube_schema import check_schema
from tests.deploy.kustomize import (
    kustomization_file,
    load_kustomization,
    referenced_files,
    render,
)

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAY = DEPLOY / "overlays" / "example"
COMPONENTS = sorted(p.parent for p in (DEPLOY / "components").glob("*/kustomization.yaml"))
KUSTOMIZATIONS = sorted(p.parent for p in DEPLOY.rglob("kustomization.yaml"))
MANIFESTS = sorted(
    p for p in DEPLOY.rglob("*.yaml") if p.name not in ("kustomization.yaml", "kustomization.yml")
)
WORKLOAD_KINDS = {"Deployment", "CronJob", "InferenceService"}
IMAGE = "ghcr.io/kubesift/kubesift"
KUBECTL = shutil.which("kubectl")


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


# -- (a) every YAML parses and is a Kubernetes object ---------------------------------------


def test_deploy_tree_is_there() -> None:
    assert (DEPLOY / "base" / "kustomization.yaml").is_file()
    assert (OVERLAY / "kustomization.yaml").is_file()
    assert (DEPLOY / "README.md").is_file()
    assert not (DEPLOY / "kserve").exists(), "deploy/kserve moved to deploy/base"


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_manifest_parses(path: Path) -> None:
    docs = _docs(path)
    assert docs, f"{path} is empty"
    for doc in docs:
        assert isinstance(doc, dict)
        assert isinstance(doc.get("apiVersion"), str) and doc["apiVersion"], path
        assert isinstance(doc.get("kind"), str) and doc["kind"], path
        assert isinstance(doc.get("metadata", {}).get("name"), str), path
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"])


def test_base_is_namespace_agnostic() -> None:
    for path in (DEPLOY / "base").glob("*.yaml"):
        for doc in _docs(path):
            assert "namespace" not in doc.get("metadata", {}), f"{path}: set it in an overlay"


# -- (b) kustomizations: files exist, the tree renders --------------------------------------


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_kustomization_references_exist(directory: Path) -> None:
    k = load_kustomization(directory)
    assert k["apiVersion"].startswith("kustomize.config.k8s.io/")
    for path in referenced_files(directory):
        assert path.exists(), f"{kustomization_file(directory)} names {path}, which is missing"
    listed = {(directory / p).resolve() for p in k.get("resources", [])}
    for path in directory.glob("*.yaml"):
        if path.name != "kustomization.yaml" and directory.parent.name != "components":
            assert path.resolve() in listed, f"{path} is not listed in resources"


def test_secrets_are_placeholders_only() -> None:
    for directory in KUSTOMIZATIONS:
        k = load_kustomization(directory)
        for gen in k.get("secretGenerator", []):
            assert not gen.get("literals"), "no secret values inside kustomization.yaml"
            for name in gen.get("envs", []) + [f.split("=", 1)[-1] for f in gen.get("files", [])]:
                assert name.endswith(".example"), f"{name}: secrets come from *.example files"
                text = (directory / name).read_text()
                assert "CHANGE_ME" in text or "PLACEHOLDER" in text
                assert "BEGIN RSA PRIVATE KEY" not in text and "ghp_" not in text


def rendered(with_components: bool = False) -> list[dict[str, Any]]:
    resources = render(OVERLAY)
    if with_components:
        from tests.deploy.kustomize import apply

        for comp in COMPONENTS:
            resources = apply(comp, load_kustomization(comp), resources)
    return resources


def _index(resources: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for r in resources:
        key = (r["kind"], r["metadata"]["name"])
        assert key not in out, f"duplicate {key}"
        out[key] = r
    return out


def test_overlay_renders_in_python() -> None:
    resources = _index(rendered())
    assert set(resources) == {
        ("Namespace", "kubesift"),
        ("PersistentVolumeClaim", "kubesift-models"),
        ("ConfigMap", "kubesift-config"),
        ("InferenceService", "kubernetes-analysis"),
        ("Deployment", "kubesift-bot"),
        ("Service", "kubesift-bot"),
        ("CronJob", "kubesift-reconcile"),
        ("Secret", "kubesift-database"),
        ("Secret", "kubesift-github"),
        ("Secret", "kubesift-alerts"),
    }
    for (kind, _), r in resources.items():
        if kind != "Namespace":
            assert r["metadata"]["namespace"] == "kubesift"
        labels = r["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "kubesift"
        assert labels["app.kubernetes.io/name"] == "kubesift"


def _decoded(secret: dict[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in secret.get("data", {}).items()}


def _kubectl_kustomize(directory: Path) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    out = subprocess.run(
        [KUBECTL, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_overlay_renders_with_kubectl_like_python() -> None:
    real = _index(_kubectl_kustomize(OVERLAY))
    ours = _index(rendered())
    assert set(real) == set(ours)
    for key, r in real.items():
        mine = ours[key]
        assert r["metadata"].get("namespace") == mine["metadata"].get("namespace"), key
        assert r["metadata"].get("labels") == mine["metadata"].get("labels"), key
        if key[0] == "Secret":
            assert _decoded(r) == _decoded(mine), key
        elif key[0] == "ConfigMap":
            assert r["data"] == mine["data"], key
        else:
            assert r.get("spec") == mine.get("spec"), key


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_components_render_with_kubectl_like_python(tmp_path: Path) -> None:
    # A throwaway overlay on top of the example with every component enabled.
    rel = lambda p: os.path.relpath(p, tmp_path)  # noqa: E731
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [rel(OVERLAY)],
                "components": [rel(c) for c in COMPONENTS],
            }
        )
    )
    real = _index(_kubectl_kustomize(tmp_path))
    ours = _index(rendered(with_components=True))
    assert set(real) == set(ours)
    for key, r in real.items():
        if key[0] not in ("Secret", "ConfigMap"):
            assert r.get("spec") == ours[key].get("spec"), key


# -- (c) cross-references ---------------------------------------------------------------------


def pod_spec(r: dict[str, Any]) -> dict[str, Any]:
    """The pod-level spec (containers, volumes, securityContext) of a workload."""
    if r["kind"] == "Deployment":
        return dict(r["spec"]["template"]["spec"])
    if r["kind"] == "CronJob":
        return dict(r["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    if r["kind"] == "InferenceService":
        return dict(r["spec"]["predictor"])
    raise AssertionError(f"not a workload: {r['kind']}")


def workloads(resources: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for r in resources:
        if r["kind"] in WORKLOAD_KINDS:
            yield r


@pytest.mark.parametrize("with_components", [False, True], ids=["example", "all-components"])
def test_references_resolve(with_components: bool) -> None:
    resources = rendered(with_components)
    index = _index(resources)
    secrets = {
        name: set(r.get("data", {})) for (kind, name), r in index.items() if kind == "Secret"
    }
    config_maps = {
        name: set(r.get("data", {})) for (kind, name), r in index.items() if kind == "ConfigMap"
    }
    pvcs = {name for kind, name in index if kind == "PersistentVolumeClaim"}
    found = list(workloads(resources))
    assert {r["kind"] for r in found} == WORKLOAD_KINDS
    for r in found:
        where = f"{r['kind']}/{r['metadata']['name']}"
        spec = pod_spec(r)
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounted: set[str] = set()
        for c in spec["containers"]:
            env = {e["name"]: e for e in c.get("env", [])}
            # The PostgreSQL URL comes from a Secret in every workload.
            ref = env["KUBESIFT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "kubesift-database", "key": "database-url"}, where
            assert env["KUBESIFT_HOME"]["value"] == "/var/lib/kubesift", where
            for e in env.values():
                source = e.get("valueFrom", {})
                if "secretKeyRef" in source:
                    s = source["secretKeyRef"]
                    assert s["name"] in secrets, f"{where}: no Secret {s['name']}"
                    assert s["key"] in secrets[s["name"]], f"{where}: no key {s['key']}"
                if "configMapKeyRef" in source:
                    m = source["configMapKeyRef"]
                    assert m["key"] in config_maps[m["name"]], where
            for e in c.get("envFrom", []):
                if "secretRef" in e:
                    assert e["secretRef"]["name"] in secrets, where
                if "configMapRef" in e:
                    assert e["configMapRef"]["name"] in config_maps, where
            for m in c.get("volumeMounts", []):
                assert m["name"] in volumes, f"{where}: mount of unknown volume {m['name']}"
                mounted.add(m["name"])
            if "KUBESIFT_CONFIG" in env:
                path = Path(env["KUBESIFT_CONFIG"]["value"])
                mount = next(m for m in c["volumeMounts"] if m["mountPath"] == str(path.parent))
                cm = volumes[mount["name"]]["configMap"]["name"]
                assert path.name in config_maps[cm], f"{where}: {path.name} not in {cm}"
            if "KUBESIFT_GITHUB_APP_KEY_FILE" in env:
                path = Path(env["KUBESIFT_GITHUB_APP_KEY_FILE"]["value"])
                mount = next(m for m in c["volumeMounts"] if m["mountPath"] == str(path.parent))
                secret = volumes[mount["name"]]["secret"]
                assert path.name in {i["path"] for i in secret["items"]}, where
                assert "KUBESIFT_GITHUB_APP_ID" in env, where
        assert mounted == set(volumes), f"{where}: unused volumes {set(volumes) - mounted}"
        for v in volumes.values():
            if "persistentVolumeClaim" in v:
                assert v["persistentVolumeClaim"]["claimName"] in pvcs, where
            if "configMap" in v:
                assert v["configMap"]["name"] in config_maps, where
            if "secret" in v:
                name = v["secret"]["secretName"]
                assert name in secrets, where
                for item in v["secret"].get("items", []):
                    assert item["key"] in secrets[name], where
        if r["metadata"]["labels"]["app.kubernetes.io/component"].startswith("alerts"):
            continue  # alert triage keeps its model in the database, not on the volume
        # Every other workload shares the models volume at $KUBESIFT_HOME/models.
        claims = [
            (v["name"], v["persistentVolumeClaim"]["claimName"])
            for v in volumes.values()
            if "persistentVolumeClaim" in v
        ]
        assert [c for _, c in claims] == ["kubesift-models"], where
        mounts = [m for c in spec["containers"] for m in c["volumeMounts"]]
        assert any(
            m["name"] == claims[0][0] and m["mountPath"] == "/var/lib/kubesift/models"
            for m in mounts
        ), where


def test_models_volume_is_shared() -> None:
    pvc = _index(rendered())[("PersistentVolumeClaim", "kubesift-models")]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    # Only the reconcile CronJob writes models; the server and the bot mount them read-only.
    for r in workloads(rendered()):
        for c in pod_spec(r)["containers"]:
            mount = next(m for m in c["volumeMounts"] if m["name"] == "models")
            assert mount.get("readOnly", False) is (r["kind"] != "CronJob"), r["kind"]


def _container_port(container: dict[str, Any], port: int | str) -> int:
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    if isinstance(port, str):
        assert port in ports, f"{container['name']}: no port named {port}"
        return ports[port]
    assert port in ports.values(), f"{container['name']}: port {port} is not declared"
    return port


def test_service_ports_and_probes_match_containers() -> None:
    resources = rendered()
    index = _index(resources)
    services = [r for r in resources if r["kind"] == "Service"]
    assert services
    for svc in services:
        selector = svc["spec"]["selector"]
        targets = [
            r
            for r in resources
            if r["kind"] == "Deployment"
            and selector.items() <= r["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(targets) == 1, f"Service {svc['metadata']['name']} selects {len(targets)}"
        (container,) = targets[0]["spec"]["template"]["spec"]["containers"]
        for port in svc["spec"]["ports"]:
            _container_port(container, port["targetPort"])
    bot = index[("Deployment", "kubesift-bot")]
    assert bot["spec"]["selector"]["matchLabels"].items() <= (
        bot["spec"]["template"]["metadata"]["labels"].items()
    )
    (container,) = bot["spec"]["template"]["spec"]["containers"]
    # The port `kubesift bot` listens on is the declared container port...
    ctx = _context(_argv(container))
    assert _container_port(container, "http") == ctx.params["port"]
    # ...and the probes hit the bot's real health route on it.
    from kubesift.bot.app import create_app

    paths = _routes(create_app)
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert _container_port(container, get["port"]) == ctx.params["port"]
        assert get["path"] in paths and get["path"].startswith("/health"), get
    for r in workloads(resources):
        for c in pod_spec(r)["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                if probe in c:
                    _container_port(c, c[probe]["httpGet"]["port"])


def _routes(create_app: Any) -> set[str]:
    import inspect

    source = inspect.getsource(create_app)
    return set(re.findall(r'Route\("([^"]+)", \w+, methods=\["GET"\]\)', source))


# -- the commands the manifests run are real kubesift commands -----------------------------


def _entrypoint() -> list[str]:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ENTRYPOINT"):
            return list(json.loads(line.split(" ", 1)[1]))
    raise AssertionError("the Dockerfile has no ENTRYPOINT")


def _argv(container: dict[str, Any]) -> list[str]:
    return [str(a) for a in (container.get("command") or _entrypoint()) + container["args"]]


def _context(argv: list[str]) -> click.Context:
    """Resolve ``kubesift SUB... ARGS`` through the CLI's command tree and parse the options
    exactly as Click would (unknown subcommands or options raise)."""
    assert argv[0] == "kubesift", argv
    command: click.Command = cli
    path = ["kubesift"]
    rest = argv[1:]
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        ctx = click.Context(command, info_name=" ".join(path))
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"`{' '.join([*path, rest[0]])}` is not a kubesift command"
        command, path, rest = sub, [*path, rest[0]], rest[1:]
    return command.make_context(" ".join(path), list(rest))


def manifest_commands() -> list[tuple[str, list[str]]]:
    return [
        (f"{r['kind']}/{c['name']}", _argv(c))
        for r in workloads(rendered(with_components=True))
        for c in pod_spec(r)["containers"]
    ]


@pytest.mark.parametrize("where,argv", manifest_commands(), ids=lambda x: str(x))
def test_manifest_commands_exist(where: str, argv: list[str]) -> None:
    if argv[1] not in cli.list_commands(click.Context(cli)):
        pytest.fail(f"{where}: `kubesift {argv[1]}` is not a kubesift command")
    ctx = _context(argv)
    assert ctx.command.name is not None


def test_manifests_run_the_expected_commands() -> None:
    commands = {where: argv[:3] for where, argv in manifest_commands()}
    assert commands == {
        "InferenceService/kserve-container": ["kubesift", "serve", "--port"],
        "Deployment/bot": ["kubesift", "bot", "--port"],
        "CronJob/reconcile": ["kubesift", "reconcile", "--once"],
        "Deployment/alerts": ["kubesift", "alerts", "serve"],
        "Deployment/watch": ["kubesift", "alerts", "watch"],
    }
    with pytest.raises(click.UsageError):
        _context(["kubesift", "bot", "--no-such-option"])
    with pytest.raises(AssertionError):
        _context(["kubesift", "no-such-command"])


def test_desired_state_config_map() -> None:
    cm = _index(rendered())[("ConfigMap", "kubesift-config")]
    toml = tomllib.loads(cm["data"]["kubesift.toml"])
    assert "reconcile" in toml
    assert not {"database_url", "token", "github_token"} & set(toml), "secrets go in Secrets"
    desired = pytest.importorskip("kubesift.reconcile.desired")
    parsed = desired.desired_from(toml)
    assert parsed.repositories


def test_example_secrets_have_the_keys_the_code_reads() -> None:
    index = _index(rendered())
    db = base64.b64decode(index[("Secret", "kubesift-database")]["data"]["database-url"])
    assert db.decode().startswith("postgresql+psycopg://")
    # The URL parses as SQLAlchemy would read it.
    from sqlalchemy.engine import make_url

    assert make_url(db.decode()).get_backend_name() == "postgresql"


# -- (d) API shapes -------------------------------------------------------------------------


MODEL_OF = {
    "Namespace": "V1Namespace",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "ConfigMap": "V1ConfigMap",
    "Secret": "V1Secret",
    "Service": "V1Service",
    "Deployment": "V1Deployment",
    "CronJob": "V1CronJob",
    "InferenceService": "V1beta1InferenceService",
    "ServiceAccount": "V1ServiceAccount",
    "ClusterRole": "V1ClusterRole",
    "ClusterRoleBinding": "V1ClusterRoleBinding",
}


@pytest.mark.parametrize("with_components", [False, True], ids=["example", "all-components"])
def test_objects_fit_the_api_models(with_components: bool) -> None:
    client = pytest.importorskip("kubernetes.client")
    api = client.ApiClient()
    for r in rendered(with_components):
        name = MODEL_OF[r["kind"]]
        where = f"{r['kind']}/{r['metadata']['name']}"
        check_schema(r, name, where)
        if name.startswith("V1beta1"):
            continue
        # The client's constructors enforce required fields (containers, selector...).
        obj = api._ApiClient__deserialize(r, name)
        assert obj.metadata.name == r["metadata"]["name"], where


def test_hand_written_required_fields() -> None:
    index = _index(rendered())
    cron = index[("CronJob", "kubesift-reconcile")]
    assert cron["apiVersion"] == "batch/v1"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(cron["spec"]["schedule"].split()) == 5
    job_pod = pod_spec(cron)
    assert job_pod["restartPolicy"] in ("Never", "OnFailure")
    deploy = index[("Deployment", "kubesift-bot")]
    assert deploy["apiVersion"] == "apps/v1"
    assert deploy["spec"]["selector"]["matchLabels"]
    isvc = index[("InferenceService", "kubernetes-analysis")]
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1"
    (predictor_container,) = isvc["spec"]["predictor"]["containers"]
    assert predictor_container["name"] == "kserve-container"
    for r in workloads(rendered()):
        where = f"{r['kind']}/{r['metadata']['name']}"
        spec = pod_spec(r)
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] != 0
        for c in spec["containers"]:
            assert c["image"] == f"{IMAGE}:0.1.0", where
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), where
            security = c["securityContext"]
            assert security["runAsNonRoot"] is True and security["runAsUser"] != 0, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"]["drop"] == ["ALL"], where
        labels = r["metadata"]["labels"]
        assert {"app.kubernetes.io/name", "app.kubernetes.io/component"} <= set(labels), where
