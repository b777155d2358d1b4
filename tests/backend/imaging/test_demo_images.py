import pytest
from django.core.management import call_command

from imaging.models import Series
from model.imaging.inv3 import DEBIAN_HEAD_CT


@pytest.fixture(autouse=True)
def demo_site(sites, settings, tmp_path):
    from accounts.models import Site

    settings.MEDIA_ROOT = tmp_path / "media"
    return Site.objects.create(code="demo", name="Demo Hospital")


@pytest.mark.django_db
def test_it_loads_real_demo_images_once(capsys):
    if not DEBIAN_HEAD_CT.exists():
        pytest.fail("apt-get install invesalius-examples")
    call_command("load_demo_images")
    first = capsys.readouterr().out
    assert "head CT: 60 imported, 0 duplicate, 0 rejected" in first
    head = Series.objects.get(study__patient__patient_id="DEMO-HEAD-CT")
    assert head.modality == "CT"
    assert head.instances.count() == 60
    assert head.problem == ""
    assert set(Series.objects.values_list("modality", flat=True)) == {"CT", "MR"}

    call_command("load_demo_images")
    again = capsys.readouterr().out
    assert "head CT: already loaded" in again
    assert "0 imported, 1 duplicate" in again
    assert Series.objects.count() == 3
