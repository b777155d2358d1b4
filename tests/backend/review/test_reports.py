"""Audit reports built by a real worker: progress in the report's row, a PDF that parses back
to the signatures, figures and chain head hash and renders to a non-blank image, a CSV with
the same content, and auditors alone may request or read them."""
import csv
import hashlib
import io
import shutil
import subprocess
from datetime import date

import numpy as np
import pytest
from PIL import Image

from audit.models import AuditEntry, Signature
from review.actions import do_record_verdict, do_start_review
from review.models import AuditReport, QAItem
from tests.backend.review.conftest import box_mask
from tests.conftest import PASSWORD
from tests.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = date.today().isoformat()


@pytest.fixture
def decided(users, make_version, make_result, decide):
    liver = make_version("liver-ct")
    accepted, edited, rejected = make_result(liver), make_result(liver), make_result(liver)
    decide(accepted)
    decide(edited, edit=box_mask(slice(2, 6), slice(2, 8)))
    decide(rejected, reject=True)
    item = QAItem.objects.get(result=accepted)
    do_start_review(users["reviewer"], item)
    do_record_verdict(users["reviewer"], item, "agree", "", PASSWORD)
    return accepted, edited, rejected


def request_report(client, **extra):
    return client.post("/api/v1/review/reports", {"period_start": TODAY, "period_end": TODAY,
                                                  **extra}, format="json")


def finished(report_id):
    report = AuditReport.objects.get(public_id=report_id)
    return report if report.status in ("succeeded", "failed") else None


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def render_pages(data: bytes, tmp_path) -> list[np.ndarray]:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (Debian poppler-utils) is needed to render the report")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")],
                   check=True)
    return [np.asarray(Image.open(p).convert("RGB"))
            for p in sorted(tmp_path.glob("page-*.png"))]


def test_it_builds_the_report_in_the_background_with_signatures_figures_and_chain(
        api_as, users, decided, celery_worker, tmp_path):
    client = api_as("auditor")
    response = request_report(client)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "queued"
    report_id = response.json()["id"]
    report = wait_until(lambda: finished(report_id), timeout=180, interval=0.5)
    assert report.status == "succeeded", report.error

    body = client.get(f"/api/v1/review/reports/{report_id}").json()
    assert body["progress"]["done"] == body["progress"]["total"] > 0
    assert body["chain_intact"] is True
    head = body["chain_head_hash"]
    assert len(head) == 64

    download = client.get(body["downloads"]["pdf"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    data = b"".join(download.streaming_content) if download.streaming else download.content
    generated = AuditEntry.objects.get(action="report.generate")
    assert generated.new_values["pdf_sha256"] == hashlib.sha256(data).hexdigest()
    assert AuditEntry.objects.filter(action="report.download", object_id=generated.object_id,
                                     actor_id=users["auditor"].pk).exists()

    text = " ".join(pdf_text(data).split())
    confirm = Signature.objects.filter(meaning="confirmed").order_by("signed_at").first()
    assert confirm.manifestation() in text  # printed name, date and time, meaning
    assert "Dr. Annotator Owner" in text and "confirmed as accurate" in text
    assert "Dr. Reviewer Owner" in text and "reviewed" in text
    assert "rejected" in text and "wrong organ" in text  # the rejection's reason
    assert head in text and "How to verify this report" in text
    assert "audit_verify" in text
    # Overall figures: 3 decided, 1 accepted, 1 edited, 1 rejected; Dice 1 and 0.8.
    assert "All results 3 0.333 0.333 0.333 0.900 0.800" in text
    assert "liver-ct v1" in text

    pages = render_pages(data, tmp_path)
    assert len(pages) >= 3
    for page in pages:
        ink = (page < 200).any(axis=2).mean()
        assert ink > 0.005, "a page came out blank"
    colourful = [(np.ptp(p.astype(int), axis=2) > 60).mean() for p in pages]
    assert max(colourful) > 0.002  # the charts are drawn in colour


def test_the_csv_lists_every_result_with_its_signature_and_the_chain(
        api_as, decided, celery_worker):
    client = api_as("auditor")
    report_id = request_report(client).json()["id"]
    wait_until(lambda: finished(report_id), timeout=180, interval=0.5)
    response = client.get(f"/api/v1/review/reports/{report_id}/csv")
    data = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.reader(io.StringIO(data.decode())))
    header = next(r for r in rows if r[:2] == ["section", "result"])
    lines = [dict(zip(header, r, strict=True)) for r in rows if r and r[0] == "result"]
    by_id = {int(line["result"]): line for line in lines}
    accepted, edited, rejected = decided
    assert set(by_id) == {accepted.pk, edited.pk, rejected.pk}
    assert by_id[accepted.pk]["meaning"] == "confirmed as accurate"
    assert by_id[accepted.pk]["signed_by"] == "Dr. Annotator Owner"
    assert by_id[accepted.pk]["signature_valid"] == "yes"
    assert by_id[accepted.pk]["qa_verdict"] == "agree"
    assert "Dr. Reviewer Owner" in by_id[accepted.pk]["qa_review_signature"]
    assert by_id[edited.pk]["dice_ai_vs_final"] == "0.8"
    assert by_id[rejected.pk]["meaning"] == "rejected"
    chain = {r[1]: r[2] for r in rows if r and r[0] == "chain"}
    assert chain["intact"] == "yes"
    assert chain["head_hash"] == AuditReport.objects.get(public_id=report_id).chain_head_hash


def test_a_report_can_be_narrowed_to_one_annotator(api_as, decided, users, celery_worker):
    client = api_as("auditor")
    report_id = request_report(client, annotator=users["annotator_member"].pk).json()["id"]
    report = wait_until(lambda: finished(report_id), timeout=180, interval=0.5)
    assert report.status == "succeeded", report.error
    assert "annotator Dr. Annotator Member" in report.scope
    with report.csv_file.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode())))
    assert not [r for r in rows if r and r[0] == "result"]


@pytest.mark.parametrize("who", ["reviewer", "annotator", "site_admin", "prompt_admin",
                                 "norole"])
def test_only_auditors_request_or_read_reports(api_as, who, users):
    assert request_report(api_as(who)).status_code == 403
    report = AuditReport.objects.create(
        site=users["auditor"].site, requested_by=users["auditor"],
        requested_at="2026-01-01T00:00:00Z", period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31), status="succeeded")
    client = api_as(who)
    assert client.get("/api/v1/review/reports").status_code == 403
    assert client.get(f"/api/v1/review/reports/{report.public_id}/pdf").status_code == 403
    assert api_as("auditor_outsider").get(
        f"/api/v1/review/reports/{report.public_id}").status_code == 404


def test_a_period_that_ends_before_it_starts_is_refused(api_as):
    response = api_as("auditor").post("/api/v1/review/reports", {
        "period_start": "2026-03-02", "period_end": "2026-03-01"}, format="json")
    assert response.status_code == 400
    assert "before it starts" in response.json()["period_end"][0]
    assert not AuditReport.objects.exists()
