"""The model registry: one directory per model version, safe to load.

``$KUBESIFT_HOME/models/<name>/<version>/`` holds ``model.skops`` (skops format,
loaded with an explicit allow-list of types: loading never runs arbitrary pickled
code), ``metadata.json`` (labels, thresholds, data hash, code version, created, and
a sha256 of every other file, checked on load), ``metrics.json`` and the model card.
``models/production.json`` names the promoted version; without it the latest
trained version is the production model.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import skops.io as sio

from kubesift import __version__
from kubesift.errors import KubesiftError, UserError
from kubesift.timeutil import utcnow_iso

MODEL_FILE = "model.skops"
METADATA = "metadata.json"
PRODUCTION = "production.json"
CANARY = "canary.json"
EVALUATION_FILE = "evaluation.skops"

#: Every type a saved model may contain. Anything else in a file refuses to load.
TRUSTED_TYPES = frozenset(
    {
        "kubesift.learn.models.LinearLabelModel",
        "kubesift.learn.models.PerLabelLogistic",
        "kubesift.learn.embedded.EmbeddingLabelModel",
        "kubesift.learn.models.SeedMLP",
        "kubesift.learn.models.MajorityModel",
        "kubesift.learn.features.ItemFeaturizer",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
        "sklearn.preprocessing._label.LabelBinarizer",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "numpy.float32",
        "numpy.float64",
        "numpy.int64",
        "numpy.dtype",
        "builtins.tuple",
        "scipy.sparse._csr.csr_matrix",
        "scipy.sparse._dia.dia_matrix",
        "sklearn.utils._bunch.Bunch",
        "numpy.random.mtrand.RandomState",
    }
)


class ModelError(KubesiftError):
    """A saved model is missing, corrupt, tampered with or of an unknown type."""


@dataclass(frozen=True)
class ModelVersion:
    """A saved model version and its metadata."""

    name: str
    version: str
    path: Path
    metadata: dict[str, Any]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def new_version() -> str:
    """A sortable version name: the UTC time to the microsecond."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def save(
    models_dir: Path,
    name: str,
    model: Any,
    metadata: dict[str, Any],
    extra_files: dict[str, bytes] | None = None,
    evaluation_model: Any = None,
) -> ModelVersion:
    """Write a new version directory: model, extra files, then metadata with hashes.

    ``evaluation_model`` (a production fit's twin, trained before its evaluation split)
    is saved beside the model: the reconciler judges recipes with it on data it has not seen.
    """
    version = new_version()
    path = models_dir / name / version
    path.mkdir(parents=True, exist_ok=False)
    sio.dump(model, path / MODEL_FILE)
    if evaluation_model is not None:
        sio.dump(evaluation_model, path / EVALUATION_FILE)
    for file_name, content in (extra_files or {}).items():
        (path / file_name).write_bytes(content)
    files = {p.name: sha256_file(p) for p in sorted(path.iterdir()) if p.is_file()}
    full = {
        **metadata,
        "name": name,
        "version": version,
        "code_version": __version__,
        "created": utcnow_iso(),
        "files": files,
    }
    # Metadata last and atomically: a version without it is an unfinished write.
    write_atomic(path / METADATA, json.dumps(full, indent=2, sort_keys=True) + "\n")
    return ModelVersion(name, version, path, full)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def ref(version: ModelVersion) -> str:
    """``name@version``: how the bot, the server and the reconciler name a version."""
    return f"{version.name}@{version.version}"


def unfinished(models_dir: Path) -> list[Path]:
    """Version directories without metadata: a training that was killed while saving."""
    return sorted(p for p in models_dir.glob("*/*") if p.is_dir() and not (p / METADATA).exists())


def list_versions(models_dir: Path) -> list[ModelVersion]:
    """Every saved version, oldest first (by creation)."""
    found = []
    for meta in sorted(models_dir.glob(f"*/*/{METADATA}")):
        try:
            data = json.loads(meta.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        found.append(ModelVersion(meta.parent.parent.name, meta.parent.name, meta.parent, data))
    return sorted(found, key=lambda v: (v.metadata.get("created", ""), v.version))


def find(models_dir: Path, name: str | None = None, version: str | None = None) -> ModelVersion:
    """A version by name and version; by default the production model."""
    versions = list_versions(models_dir)
    if name is None and version is None:
        return production(models_dir, versions)
    chosen = [
        v
        for v in versions
        if (name is None or v.name == name) and (version is None or v.version == version)
    ]
    if not chosen:
        what = "/".join(p for p in (name, version) if p)
        raise UserError(f"no saved model {what} under {models_dir}; run `kubesift train`")
    return chosen[-1]


def production(models_dir: Path, versions: list[ModelVersion] | None = None) -> ModelVersion:
    """The promoted version, or else the latest trained one."""
    versions = list_versions(models_dir) if versions is None else versions
    pointer = models_dir / PRODUCTION
    if pointer.exists():
        data = json.loads(pointer.read_text())
        for v in versions:
            if v.name == data.get("name") and v.version == data.get("version"):
                return v
        raise ModelError(f"{pointer} names {data}, which is not saved any more")
    if not versions:
        raise UserError(f"no trained model under {models_dir}; run `kubesift train` first")
    return versions[-1]


def promote(models_dir: Path, name: str, version: str) -> ModelVersion:
    """Make ``name/version`` the production model."""
    chosen = find(models_dir, name, version)
    write_atomic(
        models_dir / PRODUCTION,
        json.dumps({"name": chosen.name, "version": chosen.version}) + "\n",
    )
    return chosen


def read_canary(models_dir: Path) -> dict[str, Any] | None:
    """The canary pointer ``{name, version, share, started_at}``, or None."""
    pointer = models_dir / CANARY
    try:
        data = json.loads(pointer.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{pointer}: unreadable canary pointer ({exc})") from exc
    return data if isinstance(data, dict) else None


def start_canary(models_dir: Path, version: ModelVersion, share: float, started_at: str) -> None:
    """Send ``share`` of the bot's items to ``version`` beside production."""
    body = {"name": version.name, "version": version.version, "share": share}
    write_atomic(models_dir / CANARY, json.dumps({**body, "started_at": started_at}) + "\n")


def end_canary(models_dir: Path) -> None:
    (models_dir / CANARY).unlink(missing_ok=True)


def verify(version: ModelVersion) -> None:
    """Check every file against the sha256 recorded in its metadata."""
    files = version.metadata.get("files")
    if not isinstance(files, dict) or MODEL_FILE not in files:
        raise ModelError(f"{version.path}: metadata.json lists no model file hashes")
    for file_name, expected in files.items():
        path = version.path / file_name
        if not path.is_file():
            raise ModelError(f"{path}: missing")
        if sha256_file(path) != expected:
            raise ModelError(
                f"{path}: sha256 does not match metadata.json; the file is corrupt or was "
                "changed after training — retrain or restore it"
            )


def load_model(version: ModelVersion, file_name: str = MODEL_FILE) -> Any:
    """Verify the files, check the types in the model file, then load it."""
    verify(version)
    path = version.path / file_name
    try:
        found = set(sio.get_untrusted_types(file=path))
    except Exception as exc:  # skops raises many types on a broken archive
        raise ModelError(f"{path}: not a readable skops file ({exc})") from exc
    unknown = found - TRUSTED_TYPES
    if unknown:
        raise ModelError(f"{path}: refusing to load untrusted types {sorted(unknown)}")
    try:
        return sio.load(path, trusted=sorted(found))
    except Exception as exc:
        raise ModelError(f"{path}: cannot load ({exc})") from exc


def judged_model(version: ModelVersion) -> tuple[Any, dict[str, Any]]:
    """The model a judge may score on data newer than its split, with its metadata: a
    production fit's evaluation twin (it has seen everything), else the model itself."""
    evaluation = version.metadata.get("evaluation")
    if isinstance(evaluation, dict) and (version.path / EVALUATION_FILE).exists():
        return load_model(version, EVALUATION_FILE), {**version.metadata, **evaluation}
    return load_model(version), version.metadata
