"""Defaults that more than one part of kubesift must agree on, in one place (and light:
the CLI's options read them without importing the ML stack)."""

from __future__ import annotations

#: The precision every acting label promises unless told otherwise (``train``, the
#: reconciler's ``[reconcile] target_precision``, the bot's config).
TARGET_PRECISION = 0.9
#: The model family trained unless told otherwise.
MODEL = "sift-linear"
#: What a label model reads of an item, and so all that serving and the bot pass it (only
#: what exists when the item is opened: see docs/models.md).
INPUT_FIELDS = ("text", "title", "author", "kind", "documentation")
#: The name the model is served under (KServe's ``/v1/models/NAME``) and the bot asks for.
SERVED_NAME = "kubernetes-analysis"
