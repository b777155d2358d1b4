import pytest
import yaml


@pytest.mark.django_db
def test_it_serves_an_openapi_3_schema_to_signed_in_users(browser_as):
    response = browser_as("annotator").get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/accounts/me" in schema["paths"]


@pytest.mark.django_db
def test_the_schema_is_valid_and_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    assert yaml.safe_load(target.read_text())["info"]["title"].startswith("MedSAM-2")


@pytest.mark.django_db
def test_it_serves_interactive_docs(browser_as):
    assert browser_as("auditor").get("/api/docs/").status_code == 200
