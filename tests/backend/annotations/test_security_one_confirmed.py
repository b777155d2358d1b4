"""Issue 20: at most one confirmed result per series and structure. Confirming another is
refused (409, naming the confirmed one) unless the confirmation explicitly supersedes it with a
reason; the old one then becomes superseded, linked to its successor, audited. A partial
unique index makes a race unable to store two."""
import pytest
from django.db import IntegrityError, transaction

from annotations.models import Result
from audit.models import AuditEntry
from tests.backend.annotations.conftest import store_draft
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def url(result, what=""):
    return f"/api/v1/annotations/results/{result.pk}{'/' + what if what else ''}"


@pytest.fixture
def second(ai_result, users, library):
    """A second draft of the same series and structure (liver), by the same annotator."""
    from annotations.actions import do_submit_job

    with transaction.atomic():
        job, _ = do_submit_job(users["annotator"], ai_result.series, library["liver-ct"],
                               {"prompts": [{"slice": 1, "box": [80, 90, 150, 140]}]})
        return store_draft(job, 3, rows=slice(90, 140), cols=slice(80, 150))


@pytest.fixture
def first_confirmed(ai_result, users):
    from annotations.confirmation import do_confirm_result

    return do_confirm_result(users["annotator"], ai_result, 1, PASSWORD)


def test_a_second_confirmation_of_the_structure_is_refused_with_409(
        first_confirmed, second, api_as):
    answer = api_as("annotator").post(url(second, "confirm"),
                                      {"version": 1, "password": PASSWORD}, format="json")
    assert answer.status_code == 409, answer.json()
    message = answer.json()["supersedes"][0]
    assert f"Result {first_confirmed.pk}" in message and "already confirmed" in message
    assert Result.objects.get(pk=second.pk).state == "ai_draft"
    assert Result.objects.get(pk=second.pk).signature is None
    assert Result.objects.filter(state="confirmed").count() == 1


def test_an_explicit_supersede_replaces_the_confirmed_result_audited(
        first_confirmed, second, api_as, users):
    client = api_as("annotator")
    no_reason = client.post(url(second, "confirm"), {
        "version": 1, "password": PASSWORD, "supersedes": first_confirmed.pk}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    answer = client.post(url(second, "confirm"), {
        "version": 1, "password": PASSWORD, "supersedes": first_confirmed.pk,
        "reason": "the first missed the left lobe"}, format="json")
    assert answer.status_code == 200, answer.json()
    old = Result.objects.get(pk=first_confirmed.pk)
    assert old.state == "superseded" and old.superseded_by_id == second.pk
    assert Result.objects.get(pk=second.pk).state == "confirmed"
    assert api_as("annotator").get(url(old)).json()["superseded_by"] == second.pk
    entry = AuditEntry.objects.get(action="result.supersede", object_id=str(old.pk))
    assert entry.old_values == {"state": "confirmed"}
    assert entry.new_values["superseded_by"] == second.pk
    assert entry.reason == "the first missed the left lobe"
    assert old.transitions.filter(to_state="superseded").exists()
    # The old signature is untouched: it still proves what was signed then.
    assert old.signature is not None


def test_supersedes_must_name_the_confirmed_result(first_confirmed, second, api_as):
    client = api_as("annotator")
    wrong = client.post(url(second, "confirm"), {
        "version": 1, "password": PASSWORD, "supersedes": second.pk, "reason": "x"},
        format="json")
    assert wrong.status_code == 409
    rejecting = client.post(url(second, "reject"), {
        "version": 1, "password": PASSWORD, "reason": "x", "supersedes": first_confirmed.pk},
        format="json")
    assert rejecting.status_code == 400


def test_supersedes_without_a_confirmed_result_is_a_400(second, api_as):
    answer = api_as("annotator").post(url(second, "confirm"), {
        "version": 1, "password": PASSWORD, "supersedes": 123, "reason": "x"}, format="json")
    assert answer.status_code == 400
    assert "nothing to supersede" in str(answer.json()["supersedes"])


def test_the_database_refuses_two_confirmed_results_of_a_structure(first_confirmed, second):
    """What a race between two confirmations would do: the partial unique index refuses."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Result.objects.filter(pk=second.pk).update(state="confirmed")
    # Other states may repeat.
    Result.objects.filter(pk=second.pk).update(state="rejected")


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_racing_leave_one_confirmed(ai_result, users, library):
    """Two annotators confirm their drafts of the same structure at the same moment, each in
    its own connection: one is confirmed, the other is refused as already confirmed (by the
    check or, when both passed it, by the index), and only one signature is stored."""
    import threading

    from django.db import connection, connections

    from annotations.actions import do_submit_job
    from annotations.confirmation import AlreadyConfirmed, do_confirm_result
    from audit.models import Signature

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    with transaction.atomic():
        job, _ = do_submit_job(users["annotator_member"], ai_result.series, library["liver-ct"],
                               {"prompts": [{"slice": 1, "box": [80, 90, 150, 140]}]})
        theirs = store_draft(job, 3, rows=slice(90, 140), cols=slice(80, 150))
    start = threading.Barrier(2)
    outcomes = {}

    def confirm(key, result):
        try:
            start.wait()
            do_confirm_result(users[key], result, 1, PASSWORD)
            outcomes[key] = "confirmed"
        except AlreadyConfirmed as refused:
            outcomes[key] = refused
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm, args=args)
               for args in (("annotator", ai_result), ("annotator_member", theirs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(str(type(o).__name__) if o != "confirmed" else o
                  for o in outcomes.values()) == ["AlreadyConfirmed", "confirmed"], outcomes
    assert Result.objects.filter(series=ai_result.series, structure_key="liver-ct",
                                 state="confirmed").count() == 1
    assert Signature.objects.count() == 1
