"""The database connection is dropped in the middle of a request (PostgreSQL: the serving
backend is terminated with pg_terminate_backend while the request waits inside its transaction):
the request fails without leaving anything half-written -- no signature, no state change, no
audit entry, the chain intact -- and the same request sent again succeeds once.

PostgreSQL only (CI runs the suite on it): SQLite has no server connection to drop."""
import threading
import time

import pytest
import requests
from django.db import connection

from annotations.models import Result
from audit.models import AuditEntry, Signature
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def admin_connection():
    import psycopg

    params = connection.settings_dict
    return psycopg.connect(host=params["HOST"] or "127.0.0.1", port=params["PORT"] or 5432,
                           user=params["USER"], password=params.get("PASSWORD") or None,
                           dbname=params["NAME"])


def waiting_backend(admin, timeout: float = 30) -> int:
    """The pid of the backend blocked on a lock in the test database."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchone()
        if row:
            return row[0]
        time.sleep(0.05)
    pytest.fail("the request never reached the locked audit chain head")


def test_a_request_whose_connection_drops_leaves_nothing_half_written(
    live_server, ai_result, users
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server connection to terminate")
    session = requests.Session()
    session.get(f"{live_server.url}/api/v1/accounts/session")
    login = session.post(f"{live_server.url}/api/v1/accounts/session",
                         json={"username": users["annotator"].username, "password": PASSWORD},
                         headers={"X-CSRFToken": session.cookies["csrftoken"],
                                  "Referer": live_server.url})
    assert login.status_code == 200, login.text
    url = f"{live_server.url}/api/v1/annotations/results/{ai_result.pk}/confirm"
    headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": live_server.url}
    body = {"version": 1, "password": PASSWORD}
    entries, signatures = AuditEntry.objects.count(), Signature.objects.count()

    holder, terminator = admin_connection(), admin_connection()
    terminator.autocommit = True
    holder.execute("SELECT * FROM audit_auditchainhead FOR UPDATE")  # audit writes now wait
    answer = {}
    request = threading.Thread(
        target=lambda: answer.update(response=session.post(url, json=body, headers=headers)))
    request.start()
    pid = waiting_backend(terminator)
    terminator.execute("SELECT pg_terminate_backend(%s)", [pid])
    holder.rollback()
    request.join(timeout=60)
    holder.close()
    terminator.close()

    assert answer["response"].status_code >= 500
    assert "Traceback" not in answer["response"].text
    result = Result.objects.get(pk=ai_result.pk)
    assert result.state == "ai_draft" and result.signature_id is None
    assert (AuditEntry.objects.count(), Signature.objects.count()) == (entries, signatures)

    again = session.post(url, json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert Result.objects.get(pk=ai_result.pk).state == "confirmed"
    assert Signature.objects.count() == signatures + 1

    from audit.verify import verify_chain

    chain = verify_chain()
    assert chain.intact, chain.message
