"""A small pure-Python kustomize for the features deploy/ uses, so the tree is rendered and
checked where kubectl is not installed. Anything else in a kustomization is an error, so
the renderer never silently disagrees with the real one (compared when kubectl exists).

Supported: resources (files and directories), components, namespace, images, labels,
generatorOptions (disableNameSuffixHash), secretGenerator/configMapGenerator (envs, files,
literals) and patches (strategic merge by path; lists of objects merge by ``name``).
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KNOWN_KEYS = {
    "apiVersion",
    "kind",
    "resources",
    "components",
    "namespace",
    "images",
    "labels",
    "generatorOptions",
    "secretGenerator",
    "configMapGenerator",
    "patches",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}

Resource = dict[str, Any]


class KustomizeError(Exception):
    pass


def kustomization_file(directory: Path) -> Path:
    for name in KUSTOMIZATION_FILES:
        if (directory / name).is_file():
            return directory / name
    raise KustomizeError(f"{directory}: no kustomization file")


def load_kustomization(directory: Path) -> dict[str, Any]:
    data = yaml.safe_load(kustomization_file(directory).read_text()) or {}
    unknown = set(data) - KNOWN_KEYS
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization keys {sorted(unknown)}")
    return data


def referenced_files(directory: Path) -> list[Path]:
    """Every path a kustomization names (resources, components, patches, generator files)."""
    k = load_kustomization(directory)
    paths = [directory / p for p in k.get("resources", []) + k.get("components", [])]
    paths += [directory / p["path"] for p in k.get("patches", []) if "path" in p]
    for gen in k.get("secretGenerator", []) + k.get("configMapGenerator", []):
        paths += [directory / e for e in gen.get("envs", [])]
        paths += [directory / f.split("=", 1)[-1] for f in gen.get("files", [])]
    return paths


def _read_env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise KustomizeError(f"{path}: {line!r} is not KEY=VALUE")
        out[key.strip()] = value
    return out


def _generate(directory: Path, gen: dict[str, Any], kind: str) -> Resource:
    data: dict[str, str] = {}
    for env in gen.get("envs", []):
        data.update(_read_env_file(directory / env))
    for item in gen.get("files", []):
        key, _, path = item.rpartition("=")
        data[key or Path(path).name] = (directory / path).read_text()
    for literal in gen.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    res: Resource = {"apiVersion": "v1", "kind": kind, "metadata": {"name": gen["name"]}}
    if kind == "Secret":
        res["type"] = gen.get("type", "Opaque")
        res["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    else:
        res["data"] = data
    return res


def merge(base: Any, patch: Any) -> Any:
    """Strategic merge, as kustomize does it for the lists deploy/ patches (keyed by name)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(x, dict) and "name" in x for x in base + patch)
    ):
        out_list = [copy.deepcopy(x) for x in base]
        added = []
        for item in patch:
            for i, existing in enumerate(out_list):
                if existing["name"] == item["name"]:
                    out_list[i] = merge(existing, item)
                    break
            else:
                added.append(copy.deepcopy(item))
        return added + out_list  # new items go first, in the patch's order, as kustomize does
    return copy.deepcopy(patch)


def _walk_containers(node: Any, fn: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                for c in value:
                    if isinstance(c, dict) and "image" in c:
                        fn(c)
            else:
                _walk_containers(value, fn)
    elif isinstance(node, list):
        for value in node:
            _walk_containers(value, fn)


def _set_image(container: dict[str, Any], images: list[dict[str, Any]]) -> None:
    image = container["image"]
    name, tag = image, None
    if "@" in image:
        name = image.split("@", 1)[0]
    elif ":" in image.rsplit("/", 1)[-1]:
        name, tag = image.rsplit(":", 1)
    for rule in images:
        if rule["name"] == name:
            new_name = rule.get("newName", name)
            if "digest" in rule:
                container["image"] = f"{new_name}@{rule['digest']}"
            else:
                new_tag = rule.get("newTag", tag)
                container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name


def _load_resources(path: Path) -> list[Resource]:
    if path.is_dir():
        return render(path)
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def render(directory: Path, *, component: bool = False) -> list[Resource]:
    """The resources ``kubectl kustomize DIRECTORY`` would print (order aside)."""
    k = load_kustomization(directory)
    expected_kind = "Component" if component else "Kustomization"
    if k.get("kind", "Kustomization") != expected_kind:
        raise KustomizeError(f"{directory}: kind {k.get('kind')!r}, expected {expected_kind}")
    return apply(directory, k, [])


def apply(directory: Path, k: dict[str, Any], inherited: list[Resource]) -> list[Resource]:
    resources = list(inherited)
    for entry in k.get("resources", []):
        path = directory / entry
        if not path.exists():
            raise KustomizeError(f"{directory}: resource {entry} does not exist")
        resources += _load_resources(path)
    options = k.get("generatorOptions", {})
    if set(options) - {"disableNameSuffixHash", "labels", "annotations"}:
        raise KustomizeError(f"{directory}: unsupported generatorOptions {options}")
    for kind, key in (("Secret", "secretGenerator"), ("ConfigMap", "configMapGenerator")):
        for gen in k.get(key, []):
            res = _generate(directory, gen, kind)
            if options.get("labels"):
                res["metadata"]["labels"] = dict(options["labels"])
            if options.get("annotations"):
                res["metadata"]["annotations"] = dict(options["annotations"])
            if not options.get("disableNameSuffixHash"):
                # kustomize appends a content hash and rewrites references; names compare
                # equal here, which is all the cross-reference checks need.
                res["metadata"].setdefault("annotations", {})["kustomize/generated"] = "true"
            resources.append(res)
    for entry in k.get("components", []):
        comp_dir = directory / entry
        comp = load_kustomization(comp_dir)
        if comp.get("kind") != "Component":
            raise KustomizeError(f"{comp_dir}: not a Component")
        resources = apply(comp_dir, comp, resources)
    for patch in k.get("patches", []):
        if set(patch) != {"path"}:
            raise KustomizeError(f"{directory}: only `patches: - path: FILE` is supported")
        doc = yaml.safe_load((directory / patch["path"]).read_text())
        targets = [
            i
            for i, r in enumerate(resources)
            if r["kind"] == doc["kind"] and r["metadata"]["name"] == doc["metadata"]["name"]
        ]
        if len(targets) != 1:
            raise KustomizeError(f"{directory}: patch {patch['path']} matches {len(targets)}")
        resources[targets[0]] = merge(resources[targets[0]], doc)
    for rule in k.get("labels", []):
        if rule.get("includeSelectors") or rule.get("includeTemplates"):
            raise KustomizeError(f"{directory}: only labels without selectors are supported")
        for r in resources:
            r["metadata"].setdefault("labels", {}).update(rule["pairs"])
    if k.get("images"):
        for r in resources:
            _walk_containers(r, lambda c: _set_image(c, k["images"]))
    if "namespace" in k:
        for r in resources:
            if r["kind"] not in CLUSTER_SCOPED:
                r["metadata"]["namespace"] = k["namespace"]
    return resources
