"""``ThreadedClient``: the asyncio client for a synchronous worker (threads, blocking I/O).

    with ThreadedClient("orch:50051", "finger_app_1", 20, on_start=start, on_stop=stop) as client:
        ...  # the worker's own main loop; the client runs beside it

The client runs on an event loop of its own thread, so the worker needs no asyncio.
``on_start(stream)`` and ``on_stop(stream_id)`` are plain functions, each call made in a
thread of that loop's pool: a slow one (starting ffmpeg, waiting for it to exit) delays the
ack, as it must, but never the heartbeats. They may run concurrently for different streams.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Callable, Dict, Optional

from .client import OrchestratorClient
from .stream import Stream


class ThreadedClient:
    """``OrchestratorClient`` (same arguments and options) on a thread of its own."""

    def __init__(self, target: Any, instance_id: str, capacity: int,
                 on_start: Callable[[Stream], None], on_stop: Callable[[str], None], **options: Any):
        self._args = (target, instance_id, capacity)
        self._on_start, self._on_stop, self._options = on_start, on_stop, options
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._client: Optional[OrchestratorClient] = None
        self._leaving: Optional[asyncio.Future] = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"orchestrator-client {instance_id}", daemon=True)
        self.error: Optional[BaseException] = None

    # --- lifecycle (from any thread) -----------------------------------------------------
    def start(self) -> None:
        """Starts the client's thread and connecting; returns at once. Once only."""
        if not self._thread.is_alive() and not self._ready.is_set():
            self._thread.start()
            self._ready.wait()
            if self.error:
                raise self.error

    def leave(self, reason: str = "shutdown", *, return_within_ms: int = 0, timeout: Optional[float] = None) -> None:
        """Stops every stream (on_stop for each), leaves, and ends the thread; see
        ``OrchestratorClient.leave``. Raises what stopped the client, if anything did."""
        if self._loop is not None and self._thread.is_alive():
            try:
                self._loop.call_soon_threadsafe(self._begin_leave, reason, return_within_ms)
            except RuntimeError:  # the loop closed meanwhile: the client stopped on its own
                pass
        self.wait(timeout)

    def wait(self, timeout: Optional[float] = None) -> None:
        """Blocks until the client stopped (after ``leave``, or a refusal) and raises its error."""
        self._thread.join(timeout)
        if self.error:
            raise self.error

    def __enter__(self) -> "ThreadedClient":
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.leave()

    # --- what a worker reads -------------------------------------------------------------
    def running(self) -> Dict[str, Stream]:
        """A snapshot of the streams running now, taken on the client's loop (never torn)."""
        return self._read(lambda c: c.running(), {})

    @property
    def connected(self) -> bool:
        return self._read(lambda c: c.connected, False)

    @property
    def instance_id(self) -> str:
        return self._args[1]

    # --- on the client's thread ----------------------------------------------------------
    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # noqa: BLE001 -- handed to whoever waits or leaves
            self.error = error
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = OrchestratorClient(*self._args, self._start, self._stop, **self._options)
        self._client.start()
        self._ready.set()
        try:
            await self._client.wait()
        finally:
            # The leave runs as a task of this loop, which must not end (cancelling it) before it did.
            if self._leaving is not None:
                await self._leaving

    def _begin_leave(self, reason: str, return_within_ms: int) -> None:
        assert self._client is not None
        if self._leaving is None:
            self._leaving = asyncio.ensure_future(self._client.leave(reason, return_within_ms=return_within_ms))

    async def _start(self, stream: Stream) -> None:
        await asyncio.to_thread(self._on_start, stream)

    async def _stop(self, stream_id: str) -> None:
        await asyncio.to_thread(self._on_stop, stream_id)

    def _call(self, coroutine: Any, timeout: Optional[float]) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _read(self, read: Callable[[OrchestratorClient], Any], default: Any) -> Any:
        if self._client is None or not self._thread.is_alive():
            return default

        async def on_loop() -> Any:
            return read(self._client)  # type: ignore[arg-type]
        try:
            return self._call(on_loop(), 5)
        except (RuntimeError, concurrent.futures.CancelledError):  # the loop closed meanwhile
            return default
