"""Charts drawn off the event loop, in a small pool of worker processes, cached briefly.

matplotlib takes ~100 ms of CPU per chart and ~60 MB to import: in the server's process
either would show in the landing page's latency and memory (bench/landing.py). So the
server never imports it. Workers are started with "spawn" (a fresh interpreter: forking
a process that runs threads and an event loop is unsafe), only when the first chart is
asked for, at a lower CPU priority than the server, and are stopped by `close` in the
runtime's cleanup. A chart's data, format and locale are its cache key, so a cached chart
is never stale (nor in another viewer's language); the TTL only bounds how long one is kept.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from bot.cache import TTLCache
from bot.i18n import DEFAULT_LOCALE
from bot.reports.series import Chart

log = logging.getLogger(__name__)

MAX_WORKERS = 1  # charts are rare and take ~100 ms: one worker, one more process
IDLE_CLOSE_S = 600.0
WORKER_NICENESS = 10  # the landing page's process wins the CPU over a chart
CACHE_TTL_S = 120.0
CACHE_ENTRIES = 64  # a chart is 20-80 KB


def _start_worker() -> None:
    """Lower the worker's priority and load matplotlib and the fonts before the first job.

    Ctrl-C in a terminal reaches the whole process group: the server stops its workers
    itself (`close`), so they ignore SIGINT instead of dying with a traceback each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(WORKER_NICENESS)
    except OSError as exc:  # not permitted here: charts still work, at normal priority
        log.info("chart worker keeps its priority: %s", exc)
    from bot.reports import render  # only workers import matplotlib

    render.default_fonts()


def _ready() -> None:
    """A job that only makes a worker start (its initializer loads matplotlib)."""


def _render_in_worker(chart: Chart, fmt: str, locale: str = DEFAULT_LOCALE) -> bytes:
    """Runs in a worker process: matplotlib is imported there, never in the server. The
    words are translated here, under `use_locale(locale)` (render.draw)."""
    from bot.reports import render  # imported here, never in the server

    return render.render(chart, fmt, locale=locale)


class ChartPool:
    """Renders charts in worker processes; equal (chart, format, locale) are drawn once.

    A worker holds ~120 MB (matplotlib, and the modules of the server's `__main__`, which
    "spawn" imports again): it is stopped after IDLE_CLOSE_S without a chart to draw."""

    def __init__(
        self,
        *,
        max_workers: int = MAX_WORKERS,
        ttl: float = CACHE_TTL_S,
        max_entries: int = CACHE_ENTRIES,
        idle_close_s: float = IDLE_CLOSE_S,
    ) -> None:
        self.max_workers = max_workers
        self.idle_close_s = idle_close_s
        self.cache = TTLCache(ttl=ttl, max_entries=max_entries)
        self.idle_closed = asyncio.Event()  # set each time idle workers were stopped
        self._executor: ProcessPoolExecutor | None = None
        self._drawing = 0
        self._idle_timer: asyncio.TimerHandle | None = None

    @property
    def started(self) -> bool:
        return self._executor is not None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.max_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
            )
        return self._executor

    async def render(self, chart: Chart, fmt: str = "png", locale: str = DEFAULT_LOCALE) -> bytes:
        """The chart's bytes in `locale`, from the cache or a worker."""
        data: bytes = await self.cache.get_or_load(
            (chart, fmt, locale), lambda: self._draw(chart, fmt, locale)
        )
        return data

    async def warm(self) -> None:
        """Start the workers now, unless running: a worker takes seconds to start (a fresh
        interpreter importing matplotlib), which must not fall inside Slack's download of a
        weekly report's chart images, made as soon as the report is posted."""
        if not self.started:
            await self._run(_ready)

    async def _draw(self, chart: Chart, fmt: str, locale: str) -> bytes:
        data: bytes = await self._run(_render_in_worker, chart, fmt, locale)
        return data

    async def _run(self, job: Callable[..., Any], *args: object) -> Any:
        """`job(*args)` in a worker; the workers stop after IDLE_CLOSE_S without a job."""
        loop = asyncio.get_running_loop()
        self._drawing += 1
        self._cancel_idle_timer()
        try:
            try:
                return await loop.run_in_executor(self._pool(), job, *args)
            except BrokenProcessPool:
                # A worker died (killed, out of memory): start a new pool and try once more.
                log.warning("a chart worker died; starting new ones")
                await self._shutdown()
                return await loop.run_in_executor(self._pool(), job, *args)
        finally:
            self._drawing -= 1
            if not self._drawing and self._executor is not None:
                self._idle_timer = loop.call_later(self.idle_close_s, self._close_idle)

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _close_idle(self) -> None:
        """Nothing drawn for a while: let the workers exit (nothing is waiting on them)."""
        self._idle_timer = None
        if self._drawing or self._executor is None:
            return
        executor, self._executor = self._executor, None
        executor.shutdown(wait=False)  # the executor's own thread joins the workers
        self.idle_closed.set()

    async def _shutdown(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def close(self) -> None:
        """Stop the workers (the runtime's cleanup); a later render starts new ones."""
        self._cancel_idle_timer()
        await self._shutdown()
