"""A model worker loads the engines that approved prompt versions pin when it starts, so the
first prompt and live preview after a restart do not wait for the engine (issue 23)."""
import os

import pytest

from tests.worker import WorkerProcess, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_only_engines_served_here_and_pinned_by_an_approved_version(library):
    from annotations.tasks import engines_to_preload
    from prompts.models import PromptVersion, VersionState

    assert engines_to_preload(["cpu", "default"]) == ["litemedsam"]
    assert engines_to_preload(["default"]) == []
    PromptVersion.objects.filter(state=VersionState.APPROVED).update(state=VersionState.RETIRED)
    assert engines_to_preload(["cpu"]) == []


def test_a_worker_loads_the_pinned_engine_before_its_first_job(library, worker_env):
    env, tmp = worker_env
    worker = WorkerProcess(f"preload-{os.getpid()}@localhost",
                           {**env, "MEDSAM_PRELOAD_ENGINES": "1"}, tmp, ["cpu"])
    try:
        worker.start()
        wait_until(lambda: "engine litemedsam loaded in" in worker.log(), timeout=120,
                   what="the worker did not preload litemedsam", details=worker.log)
        assert "preloading the engines failed" not in worker.log()
    finally:
        worker.stop()
