"""``manage.py prompt_library check|load`` as an operator runs them."""
import pytest
from django.core.management import CommandError, call_command

import model.engines.registry  # noqa: F401  (part of this install: a broken one fails)
from prompts.models import PromptVersion
from prompts.source import STRUCTURES_DIR


def test_check_passes_on_the_shipped_library(capsys):
    call_command("prompt_library", "check")
    assert "22 entries valid" in capsys.readouterr().out


def test_check_prints_every_problem_with_file_and_field(tmp_path):
    good = (STRUCTURES_DIR / "spleen-ct.yaml").read_text(encoding="utf-8")
    (tmp_path / "spleen-ct.yaml").write_text(good.replace('"78961009"', '"78961008"'))
    (tmp_path / "liver-ct.yaml").write_text(
        (STRUCTURES_DIR / "liver-ct.yaml").read_text().replace("unit: mm", "unit: inch"))
    with pytest.raises(CommandError) as failed:
        call_command("prompt_library", "check", "--dir", str(tmp_path))
    text = str(failed.value)
    assert "2 problem(s)" in text
    assert "spleen-ct.yaml: structure.type: SNOMED CT code '78961008' has a wrong check" in text
    assert "liver-ct.yaml: interaction.tolerance.unit: 'inch' is not one of" in text


def test_check_refuses_a_weights_pin_that_does_not_match(tmp_path):
    text = (STRUCTURES_DIR / "spleen-ct.yaml").read_text(encoding="utf-8")
    (tmp_path / "spleen-ct.yaml").write_text(text.replace("79d8c9dca6db", "89d8c9dca6db"))
    with pytest.raises(CommandError, match="spleen-ct.yaml: engine.weights_sha256: pins 89d8"):
        call_command("prompt_library", "check", "--dir", str(tmp_path))


@pytest.mark.django_db
def test_load_is_idempotent_and_loads_nothing_when_a_file_is_bad(sites, tmp_path, capsys):
    call_command("prompt_library", "load")
    out = capsys.readouterr().out
    assert "home: 22 new, 0 updated, 0 unchanged" in out
    brain = PromptVersion.objects.get(entry__site=sites["home"], entry__key="brain-ct")
    assert (brain.state, brain.entry.name, brain.entry.modality) == ("approved", "Brain", "CT")
    call_command("prompt_library", "load", "--site", "home")
    assert "home: 0 new, 0 updated, 22 unchanged" in capsys.readouterr().out
    (tmp_path / "spleen-ct.yaml").write_text("key: spleen-ct\n")
    before = PromptVersion.objects.count()
    with pytest.raises(CommandError, match="spleen-ct.yaml"):
        call_command("prompt_library", "load", "--dir", str(tmp_path))
    assert PromptVersion.objects.count() == before
