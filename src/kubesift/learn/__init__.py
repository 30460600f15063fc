"""Label models: datasets with provenance, models, calibration, evaluation, registry.

The public entry points are :class:`Predictor` (the one prediction path) and the
registry functions in :mod:`kubesift.learn.registry`.
"""

from __future__ import annotations

from kubesift.learn.predictor import Prediction, Predictor
from kubesift.learn.registry import ModelError, ModelVersion

__all__ = ["ModelError", "ModelVersion", "Prediction", "Predictor"]
