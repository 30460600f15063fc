"""The KServe model: a thin adapter from kserve.Model to the kubesift Predictor.

Concurrent requests are scored together (greedy batching: whatever arrived while the
model was busy becomes the next batch, no timer). Scoring runs on the event loop itself:
handing each batch to a worker thread measured 165 req/s at one connection against 380
inline (the GIL hand-off), and the model holds the GIL while it scores anyway.

A watcher thread follows the registry's production pointer
(:class:`kubesift.learn.pointer.ModelFollower`, the same as the bot's) and swaps in a new
version once it is loaded and warmed up; requests already batched finish on the version
that scored them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kserve import InferRequest, InferResponse, Model
from kserve.errors import InferenceError, InvalidInput
from kserve.protocol.infer_type import InferOutput

from kubesift.learn import Prediction
from kubesift.learn.pointer import Loaded, ModelFollower, ModelSpec
from kubesift.serve.metrics import ServeMetrics
from kubesift.serve.protocol import (
    MAX_INSTANCES,
    OUTPUT_NAMES,
    RequestError,
    Tensor,
    parse_v1,
    parse_v2,
    v1_response,
    v2_metadata,
    v2_outputs,
)

log = logging.getLogger("kserve.kubesift")  # the SDK configures "kserve" handlers

WARMUP = [{"text": "Fix a panic in the kubelet when a pod is deleted", "author": None}]


class SiftModel(Model):
    """``kubesift serve``'s model: V1, the original ``{"text"}`` contract and V2."""

    def __init__(
        self,
        name: str,
        models_dir: Path,
        spec: ModelSpec | None = None,
        poll_interval: float = 2.0,
        max_batch: int = 64,
        max_instances: int = MAX_INSTANCES,
        batch_wait: float = 0.002,
        metrics: ServeMetrics | None = None,
    ) -> None:
        super().__init__(name)
        self.models_dir = models_dir
        self.spec = spec or ModelSpec()
        self.poll_interval = poll_interval
        self.max_batch = max_batch
        self.max_instances = max_instances
        self.batch_wait = batch_wait
        self.metrics = metrics or ServeMetrics()
        self.follower = ModelFollower(
            models_dir, self.spec, check_every=0.0, warmup=list(WARMUP), on_switch=self._switched
        )
        self.ready = False
        self._queue: deque[tuple[list[dict[str, Any]], asyncio.Future[Any]]] = deque()
        self._draining = False
        self._drain_task: asyncio.Task[None] | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- loading and following the production pointer ------------------------------------

    @property
    def current(self) -> Loaded | None:
        """The production version being served (the follower's state)."""
        state = self.follower.state
        return state.production if state else None

    def load(self) -> bool:
        """Re-read the pointers and load what they name now; True when one is served.
        A failure keeps serving the old version; the next poll tries again."""
        before = self.follower.last_error
        try:
            self.follower.refresh(strict=True)
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            if message != before:
                log.warning("model not loaded: %s", message)
                self.metrics.model_load_errors.labels(self.name).inc()
        return self.ready

    def _switched(self, old: Loaded | None, new: Loaded) -> None:
        m = self.metrics
        self.ready = True
        if old is not None:
            m.model_info.remove(self.name, old.name, old.version)
        m.model_info.labels(self.name, new.name, new.version).set(1)
        m.model_loaded.labels(self.name).set(time.time())
        m.model_switches.labels(self.name).inc()
        # Keep the long-lived heap (SDK, model) out of the cyclic GC: full collections
        # of it otherwise stall every request in flight for tens of milliseconds.
        gc.collect()
        gc.freeze()
        log.info("serving %s as %s", new.ref, self.name)

    def start_watching(self) -> threading.Thread:
        """Load now and then every ``poll_interval`` seconds in a daemon thread."""

        def run() -> None:
            while not self._stop.is_set():
                self.load()
                if self.spec.pinned and self.ready:
                    return
                self._stop.wait(self.poll_interval)

        self._watcher = threading.Thread(target=run, name="kubesift-model-watch", daemon=True)
        self._watcher.start()
        return self._watcher

    def stop(self) -> None:
        self._stop.set()
        super().stop()

    # -- scoring --------------------------------------------------------------------------

    async def _score(self, items: list[dict[str, Any]]) -> tuple[Loaded, list[Prediction]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((items, future))
        if not self._draining:
            self._draining = True
            self._drain_task = loop.create_task(self._drain())
        result: tuple[Loaded, list[Prediction]] = await future
        return result

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._gather()
                batch = self._take_batch()
                current = self.current
                if current is None:
                    self._fail(batch, InferenceError("no model loaded"))
                    continue
                items = [item for entry_items, _ in batch for item in entry_items]
                self.metrics.batch_size.observe(len(items))
                try:
                    predictions = current.predictor.predict(items, 0)
                except Exception as exc:
                    log.exception("prediction failed")
                    self._fail(batch, InferenceError(f"prediction failed: {exc}"))
                    continue
                start = 0
                for entry_items, future in batch:
                    end = start + len(entry_items)
                    if not future.done():  # its client may have gone away
                        future.set_result((current, predictions[start:end]))
                    start = end
        finally:
            self._draining = False

    async def _gather(self) -> None:
        """Let requests that arrived while the last batch scored reach the queue.

        Parsing a request takes the event loop a few turns, so keep turning while the
        queue still grows (at most ``batch_wait`` seconds, or until ``max_batch``): a
        closed loop of N clients then lands in one batch of N instead of a split one,
        which would make every request wait for two model calls.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.batch_wait
        idle = 0
        size = len(self._queue)
        while idle < 3 and loop.time() < deadline:
            await asyncio.sleep(0)
            grown = len(self._queue)
            if grown >= self.max_batch:
                return
            idle = 0 if grown > size else idle + 1
            size = grown

    def _take_batch(self) -> list[tuple[list[dict[str, Any]], asyncio.Future[Any]]]:
        """Whole requests, oldest first, up to ``max_batch`` items (at least one request)."""
        batch: list[tuple[list[dict[str, Any]], asyncio.Future[Any]]] = []
        size = 0
        while self._queue and (not batch or size + len(self._queue[0][0]) <= self.max_batch):
            entry = self._queue.popleft()
            batch.append(entry)
            size += len(entry[0])
        return batch

    @staticmethod
    def _fail(
        batch: list[tuple[list[dict[str, Any]], asyncio.Future[Any]]], exc: Exception
    ) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)

    async def predict(
        self, payload: Any, headers: dict[str, str] | None = None
    ) -> dict[str, Any] | InferResponse:
        if isinstance(payload, InferRequest):
            return await self._predict_v2(payload)
        try:
            request = parse_v1(payload, self.max_instances)
        except RequestError as exc:
            raise InvalidInput(str(exc)) from exc
        if not request.items:
            return {"predictions": []}
        loaded, predictions = await self._score(request.items)
        return v1_response(request, loaded.predictor.labels, predictions)

    async def _predict_v2(self, request: InferRequest) -> InferResponse:
        tensors = [Tensor(i.name, i.datatype, i.shape, i.data) for i in request.inputs]
        try:
            items = parse_v2(tensors, self.max_instances)
        except RequestError as exc:
            raise InvalidInput(str(exc)) from exc
        wanted = _requested(request)
        loaded, predictions = await self._score(items) if items else (self.current, [])
        if loaded is None:
            raise InferenceError("no model loaded")
        outputs = [
            InferOutput(o["name"], o["shape"], o["datatype"], o["data"], o.get("parameters"))
            for o in v2_outputs(loaded.predictor.labels, predictions)
            if wanted is None or o["name"] in wanted
        ]
        return InferResponse(
            response_id=request.id or str(uuid.uuid4()),
            model_name=self.name,
            model_version=loaded.version,
            infer_outputs=outputs,
        )

    # -- V2 metadata ------------------------------------------------------------------------

    def get_input_types(self) -> list[dict[str, Any]]:
        labels = self.current.predictor.labels if self.current else []
        return v2_metadata(labels)[0]

    def get_output_types(self) -> list[dict[str, Any]]:
        labels = self.current.predictor.labels if self.current else []
        return v2_metadata(labels)[1]


def _requested(request: InferRequest) -> set[str] | None:
    outputs: Sequence[Any] | None = getattr(request, "request_outputs", None)
    if not outputs:
        return None
    names = {getattr(o, "name", None) for o in outputs}
    unknown = sorted(str(n) for n in names - set(OUTPUT_NAMES))
    if unknown:
        raise InvalidInput(f"unknown outputs {unknown}; this model has {list(OUTPUT_NAMES)}")
    return {str(n) for n in names}
