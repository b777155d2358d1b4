"""The embedded default's broker: kombu's file-system transport with atomic writes and claims.

kombu's own file-system transport creates a message file and then writes it. A consumer polling
the folder in between reads an empty file, and ``json.loads('')`` raised out of the worker's
event loop: "Unrecoverable error: JSONDecodeError", the worker died, and ``serve`` with it. It
also claims a message by moving it to the system temp folder, which two deployments on one
machine share.

Here a message is written under a name the consumer never picks up (``.tmp-…``), flushed to disk
and renamed into place; ``rename`` within one folder is atomic on POSIX, so a consumer sees a
whole message or none. A consumer claims a message by renaming it into this broker's own
``processed`` folder (atomic too: of two consumers one wins, the other moves on). A file that
still cannot be decoded (planted, truncated by a crash of the disk, foreign) is moved to
``rejected/`` with a logged error instead of killing the worker; the application's job table
and its recovery sweep republish the work such a message carried.

``config.celery`` registers this class under the ``filesystem`` scheme, so ``filesystem://``
keeps meaning the embedded broker everywhere.
"""
from __future__ import annotations

import logging
import os
import threading
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

TEMPORARY_PREFIX = ".tmp-"
REJECTED_FOLDER = "rejected"


def folder_options(root: Path) -> dict:
    """The transport options that put one broker's queue, claims and bindings under ``root``."""
    return {
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "processed_folder": str(root / "processed"),
        "control_folder": str(root / "control"),
        "store_processed": False,
    }


class AtomicChannel(filesystem.Channel):
    def get_table(self, exchange):
        try:
            table = loads(bytes_to_str(self._exchange_file(exchange).read_bytes()))
        except FileNotFoundError:
            return []
        return [filesystem.exchange_queue_t(*entry) for entry in table]

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        """Bindings are rewritten whole and renamed into place under a lock file, so a reader
        never sees a truncated table (kombu's version truncates the live file first)."""
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with open(file.with_suffix(".lock"), "a") as guard:
            filesystem.lock(guard, filesystem.LOCK_EX)
            try:
                table = self.get_table(exchange)
                if binding in table:
                    return
                temporary = file.with_name(f"{TEMPORARY_PREFIX}{uuid.uuid4()}{file.name}")
                temporary.write_bytes(str_to_bytes(dumps([binding, *table])))
                os.replace(temporary, file)
            finally:
                filesystem.unlock(guard)

    def _put(self, queue, payload, **kwargs):
        folder = Path(self.data_folder_out)
        name = f"{monotonic() * 1000:017.0f}_{uuid.uuid4()}.{queue}.msg"
        temporary = folder / f"{TEMPORARY_PREFIX}{name}"
        try:
            with open(temporary, "wb") as stream:
                stream.write(str_to_bytes(dumps(payload)))
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, folder / name)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise filesystem.ChannelError(f"Cannot add a message to {folder}: {exc}") from exc

    def _get(self, queue):
        suffix = f".{queue}.msg"
        inbox = Path(self.data_folder_in)
        claimed_folder = Path(self.processed_folder)  # made at start-up (config.celery)
        for name in sorted(os.listdir(inbox)):
            if name.startswith(TEMPORARY_PREFIX) or not name.endswith(suffix):
                continue
            claimed = claimed_folder / f"{os.getpid()}-{name}"
            try:
                os.replace(inbox / name, claimed)
            except OSError:
                continue  # another consumer took it first
            try:
                payload = claimed.read_bytes()
                message = loads(bytes_to_str(payload))
            except (OSError, ValueError) as exc:
                self._reject(claimed, name, exc)
                continue
            if not isinstance(message, dict):
                self._reject(claimed, name, TypeError("not a message object"))
                continue
            if self.store_processed:
                os.replace(claimed, claimed_folder / name)
            else:
                claimed.unlink(missing_ok=True)
            return message
        raise Empty()

    def _reject(self, claimed: Path, name: str, reason: Exception) -> None:
        rejected = Path(self.data_folder_in).parent / REJECTED_FOLDER
        rejected.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(claimed, rejected / name)
        except OSError:
            claimed.unlink(missing_ok=True)
        logger.error(
            "broker message %s could not be read (%s); moved to %s", name, reason, rejected
        )


class AtomicFilesystemTransport(filesystem.Transport):
    """kombu keeps one declared-bindings state for every file-system connection of a process;
    a connection to a second broker folder then believed its queues bound and published into
    nothing. Here the state is per broker (per control folder)."""

    Channel = AtomicChannel
    _states: dict[str, virtual.BrokerState] = {}
    _states_lock = threading.Lock()

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        folder = os.path.abspath(client.transport_options.get("control_folder", "control"))
        with self._states_lock:
            self.state = self._states.setdefault(folder, virtual.BrokerState())
