"""Migrations 0003/0004 (issue 20): images stored before them get their patient's site, and
UIDs become unique per site."""
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("imaging", "0002_series_orientation_established")]
AFTER = [("imaging", "0004_uids_unique_per_site")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Whatever happens, leave the test database on the latest migrations."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_images_get_their_patients_site_and_uids_become_per_site(back_to_latest):
    old = migrate(BEFORE)
    Site = old.get_model("accounts", "Site")
    Patient, Study = old.get_model("imaging", "Patient"), old.get_model("imaging", "Study")
    Series, Instance = old.get_model("imaging", "Series"), old.get_model("imaging", "Instance")
    home = Site.objects.create(code="mig-home", name="Migration Home")
    other = Site.objects.create(code="mig-other", name="Migration Other")
    for site, uid in ((home, "1.2.3"), (other, "1.2.4")):
        patient = Patient.objects.create(site=site, patient_id="P")
        study = Study.objects.create(patient=patient, study_instance_uid=uid)
        series = Series.objects.create(study=study, series_instance_uid=f"{uid}.1")
        Instance.objects.create(series=series, sop_instance_uid=f"{uid}.1.1", sop_class_uid="x",
                                transfer_syntax_uid="x", rows=1, columns=1,
                                file=f"imaging/{uid}/{uid}.1/{uid}.1.1.dcm", sha256="0", size=1)

    new = migrate(AFTER)
    Study, Series = new.get_model("imaging", "Study"), new.get_model("imaging", "Series")
    Instance = new.get_model("imaging", "Instance")
    for site_id, uid in ((home.pk, "1.2.3"), (other.pk, "1.2.4")):
        assert Study.objects.get(study_instance_uid=uid).site_id == site_id
        assert Series.objects.get(series_instance_uid=f"{uid}.1").site_id == site_id
        instance = Instance.objects.get(sop_instance_uid=f"{uid}.1.1")
        assert instance.site_id == site_id
        assert instance.file.name == f"imaging/{uid}/{uid}.1/{uid}.1.1.dcm"  # not moved
    # The other site may now hold the home site's study UID; the home site may not twice.
    patient = new.get_model("imaging", "Patient").objects.get(site_id=other.pk)
    Study.objects.create(site_id=other.pk, patient_id=patient.pk, study_instance_uid="1.2.3")
    with pytest.raises(IntegrityError), transaction.atomic():
        Study.objects.create(site_id=other.pk, patient_id=patient.pk,
                             study_instance_uid="1.2.3")
