"""Fire-and-forget work that must still finish before shutdown (notifications, uploads)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def track(self, task: asyncio.Task[Any]) -> None:
        """Also wait for a task someone else started (a Slack listener running after its ack)."""
        if task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the work under way (used on shutdown and by tests)."""
        while self._tasks:
            pending = list(self._tasks)
            _, still_running = await asyncio.wait(pending, timeout=timeout)
            if still_running:
                log.warning("%d background tasks still running at shutdown", len(still_running))
                for task in still_running:
                    task.cancel()
                return

    def __len__(self) -> int:
        return len(self._tasks)
