"""core.supervisor with real child processes and a controlled clock: a child that keeps
failing is restarted with doubling back-off, one that stayed up starts again from 1 s, and
the others are left alone."""
import sys
import time

from core.supervisor import Child, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settle(supervisor: Supervisor, child: Child) -> None:
    """Wait for ``child``'s current process to exit, then let the supervisor notice."""
    child.proc.wait(timeout=30)
    supervisor.tick()


def test_a_failing_child_is_restarted_with_backoff_and_the_others_keep_running():
    clock, lines = Clock(), []
    failing = Child("failing", [sys.executable, "-c", "raise SystemExit(3)"])
    steady = Child("steady", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor = Supervisor([failing, steady], clock=clock, report=lines.append,
                            max_backoff=8, stable_after=60)
    supervisor.start()
    try:
        delays = []
        for _ in range(5):
            settle(supervisor, failing)
            delays.append(failing.restart_at - clock.now)
            clock.now = failing.restart_at
            supervisor.tick()
        assert delays == [1, 2, 4, 8, 8]
        assert failing.restarts == 5
        assert [code for _, code in failing.history] == [3] * 5
        assert "failing exited with code 3" in lines[0]
        assert steady.running() and steady.restarts == 0

        # A child that stayed up past stable_after starts again after 1 s, not the maximum.
        settle(supervisor, failing)
        clock.now = failing.restart_at
        supervisor.tick()
        failing.started_at = clock.now - 120
        settle(supervisor, failing)
        assert failing.restart_at - clock.now == 1
    finally:
        supervisor.stop()
    time.sleep(0.1)
    assert not steady.running()
    supervisor.tick()
    assert failing.restart_at is None, "a stopped supervisor starts nothing again"
