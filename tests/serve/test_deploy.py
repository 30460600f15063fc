"""The Dockerfile and the KServe InferenceService, checked offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from kubesift.cli.serve import serve_command
from tests.deploy.kube_schema import check_schema

yaml = pytest.importorskip("yaml")
kserve = pytest.importorskip("kserve")
k8s_models = pytest.importorskip("kubernetes.client.models")

ROOT = Path(__file__).resolve().parents[2]
ISVC = ROOT / "deploy" / "base" / "inferenceservice.yaml"
DOCKERFILE = ROOT / "Dockerfile"


def test_inference_service() -> None:
    docs = list(yaml.safe_load_all(ISVC.read_text()))
    assert len(docs) == 1
    isvc = docs[0]
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1"
    assert isvc["kind"] == "InferenceService"
    check_schema(isvc, "V1beta1InferenceService")
    predictor = isvc["spec"]["predictor"]
    (container,) = predictor["containers"]
    assert container["name"] == "kserve-container"  # KServe's custom predictor container
    # The args are `kubesift serve` options (the image's ENTRYPOINT is `kubesift serve`).
    ctx = serve_command.make_context("serve", list(container["args"]))
    port = ctx.params["port"]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert ctx.params["served_name"] == isvc["metadata"]["name"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": port}
    assert container["livenessProbe"]["httpGet"]["path"] in ("/", "/v2/health/live")
    assert container["livenessProbe"]["httpGet"]["port"] == port
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["models"] == f"{env['KUBESIFT_HOME']}/models"
    assert {v["name"] for v in predictor["volumes"]} == set(mounts)
    annotations = isvc["metadata"]["annotations"]
    assert annotations["prometheus.kserve.io/port"] == str(port)


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile() -> None:
    steps = _instructions()
    isvc = yaml.safe_load(ISVC.read_text())
    container = isvc["spec"]["predictor"]["containers"][0]
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users, "the image must not run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert int(user) == container["securityContext"]["runAsUser"]
    # The last USER comes after the install steps, so the server runs unprivileged.
    assert [k for k, _ in steps].index("USER") > max(
        i for i, (k, _) in enumerate(steps) if k == "RUN"
    )
    entrypoint = json.loads(next(rest for keyword, rest in steps if keyword == "ENTRYPOINT"))
    assert entrypoint == ["kubesift", "serve"]
    cmd = json.loads(next(rest for keyword, rest in steps if keyword == "CMD"))
    ctx = serve_command.make_context("serve", cmd)
    expose = [int(rest) for keyword, rest in steps if keyword == "EXPOSE"]
    assert expose == [ctx.params["port"]]
    env = " ".join(rest for keyword, rest in steps if keyword == "ENV")
    assert "KUBESIFT_HOME=/var/lib/kubesift" in env
    install = " ".join(rest for keyword, rest in steps if keyword == "RUN")
    assert '".[serve,postgres]"' in install  # the KServe SDK and the PostgreSQL driver
    # `kubesift` is the console script that runs the CLI with the serve command.
    assert 'kubesift = "kubesift.cli:main"' in (ROOT / "pyproject.toml").read_text()


def test_manifest_args_are_refused_when_wrong() -> None:
    with pytest.raises(click.UsageError):
        serve_command.make_context("serve", ["--prot", "8080"])
