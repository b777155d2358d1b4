"""The embedded default's broker (core.broker) under concurrent publish and consume, and with
empty or partial message files planted in its queue folder."""
import os
import threading
from pathlib import Path

import pytest
from kombu import Connection

from core.broker import folder_options
from core.models import WorkerProbe
from tests.worker import WorkerProcess, wait_until


def _connection(folder: Path) -> Connection:
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return Connection("filesystem://", transport_options=folder_options(folder))


def test_it_is_the_transport_behind_filesystem_urls(tmp_path):
    with _connection(tmp_path) as conn:
        assert type(conn.transport).__name__ == "AtomicFilesystemTransport"


def test_it_skips_empty_and_partial_files_and_moves_them_aside(tmp_path):
    queue_dir = tmp_path / "queue"
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("jobs")
        (queue_dir / f"{0:017}_empty.jobs.msg").write_bytes(b"")
        (queue_dir / f"{1:017}_partial.jobs.msg").write_bytes(b'{"body": "eyJ')
        queue.put({"job": 7})
        message = queue.get(timeout=2)
        assert message.payload == {"job": 7}
        message.ack()
        queue.close()
    rejected = sorted(p.name for p in (tmp_path / "rejected").iterdir())
    assert rejected == [f"{0:017}_empty.jobs.msg", f"{1:017}_partial.jobs.msg"]
    assert not list(queue_dir.glob("*.msg"))


def test_no_message_is_lost_or_read_twice_under_concurrent_publish_and_consume(tmp_path):
    count, publishers, consumers = 400, 4, 3
    received: list[int] = []
    lock = threading.Lock()
    done = threading.Event()

    def publish(start: int) -> None:
        with _connection(tmp_path) as conn:
            queue = conn.SimpleQueue("jobs")
            for number in range(start, count, publishers):
                queue.put({"n": number})
            queue.close()

    def consume() -> None:
        with _connection(tmp_path) as conn:
            queue = conn.SimpleQueue("jobs")
            while not done.is_set():
                try:
                    message = queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                with lock:
                    received.append(message.payload["n"])
                    if len(received) >= count:
                        done.set()
                message.ack()
            queue.close()

    with _connection(tmp_path) as conn:  # bind once: kombu rewrites its exchange table in place
        conn.SimpleQueue("jobs").close()
    threads = [threading.Thread(target=consume) for _ in range(consumers)]
    threads += [threading.Thread(target=publish, args=(i,)) for i in range(publishers)]
    for thread in threads:
        thread.start()
    done.wait(timeout=60)
    done.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(received) == len(set(received)), "a message was read twice"
    lost = sorted(set(range(count)) - set(received))
    assert not lost, f"lost: {lost}"
    assert not (tmp_path / "rejected").exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_survives_planted_empty_and_partial_files_and_answers_the_next_task(
    worker_env, tmp_path
):
    """A real worker process on a private file-system broker, whatever broker the suite runs on."""
    from core.tasks import answer_probe

    env, _ = worker_env
    broker = tmp_path / "broker"
    worker = WorkerProcess(
        f"planted-{os.getpid()}@localhost",
        {**env, "CELERY_BROKER_URL": "filesystem://", "MEDSAM_BROKER_DIR": str(broker),
         "MEDSAM_WORKER_HEARTBEAT_SECONDS": "1"},
        tmp_path, queues=("default",),
    )
    with _connection(broker) as conn:
        conn.SimpleQueue("default").close()
        worker.start()
        try:
            (broker / "queue" / f"{0:017}_planted.default.msg").write_bytes(b"")
            (broker / "queue" / f"{1:017}_partial.default.msg").write_bytes(b'{"body": ')
            probe = WorkerProbe.objects.create()
            answer_probe.apply_async(args=[probe.pk], connection=conn, queue="default")
            answered = wait_until(
                lambda: WorkerProbe.objects.filter(pk=probe.pk, answered_at__isnull=False).first(),
                what="the probe was not answered", details=worker.log,
            )
            assert answered.answered_by == worker.hostname
            assert worker.proc.poll() is None, worker.log()
            assert "Unrecoverable error" not in worker.log()
            assert sorted(p.name for p in (broker / "rejected").iterdir()) == [
                f"{0:017}_planted.default.msg", f"{1:017}_partial.default.msg"]
        finally:
            worker.stop()
