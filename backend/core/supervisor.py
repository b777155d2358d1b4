"""Keeps the embedded default's processes running: a child that exits is started again.

``manage.py serve`` used to stop everything when one child exited, so a crash of the model
worker took the web server (and every open viewer) down with it. Here each child is restarted
on its own, after a back-off that doubles with every quick failure (1 s, 2 s, 4 s ... at most
``max_backoff``) and starts again from 1 s once the child has stayed up for ``stable_after``
seconds. Every exit and restart is logged; while a worker is down, /healthz lists its queues
under ``unserved_queues``.
"""
from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import processes

logger = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    command: list
    env: dict | None = None
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    restart_at: float | None = None
    history: list[tuple[float, int]] = field(default_factory=list)  # (when, exit code)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    def __init__(self, children: list[Child], *, max_backoff: float = 30.0,
                 stable_after: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 report: Callable[[str], None] | None = None) -> None:
        self.children = children
        self.max_backoff, self.stable_after, self.clock = max_backoff, stable_after, clock
        self.report = report or logger.warning
        self.stopped = False

    def start(self) -> None:
        for child in self.children:
            self._launch(child)

    def _launch(self, child: Child) -> None:
        child.proc = processes.start(child.command, child.env)
        child.started_at, child.restart_at = self.clock(), None

    def backoff(self, child: Child) -> float:
        return min(self.max_backoff, 2.0 ** max(0, child.failures_in_a_row - 1))

    def tick(self) -> None:
        """Notice exits and start what is due; call it every fraction of a second."""
        if self.stopped:
            return
        now = self.clock()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.report(f"Starting {child.name} again (restart {child.restarts}).")
                    self._launch(child)
                continue
            if child.proc is None or child.proc.poll() is None:
                continue
            code = child.proc.returncode
            child.history.append((now, code))
            up_for = now - child.started_at
            quick = up_for < self.stable_after
            child.failures_in_a_row = child.failures_in_a_row + 1 if quick else 1
            delay = self.backoff(child)
            child.restart_at = now + delay
            self.report(
                f"{child.name} exited with code {code} after {up_for:.0f} s; "
                f"restarting it in {delay:.0f} s. The other processes keep running."
            )

    def stop(self) -> None:
        self.stopped = True
        for child in self.children:
            child.restart_at = None
        processes.stop([child.proc for child in self.children if child.proc is not None])
