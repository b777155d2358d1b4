"""POST /api/v1/imaging/uploads/: files, zips and folders; each file gets its own outcome."""

import pydicom
from pydicom.uid import generate_uid

from imaging.models import Instance, Patient, Series, Study
from tests.backend.imaging.conftest import real_bytes, series_files, zip_of
from tests.model.imaging.dicom_builders import build_series, real_file, to_bytes


def stored_files(media_root) -> list:
    return [p for p in media_root.rglob("*.dcm")] if media_root.exists() else []


def test_it_imports_a_series_and_reports_each_file(upload, users):
    response = upload(series_files(5))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["imported"] == 5 and body["rejected"] == 0
    assert {f["status"] for f in body["files"]} == {"imported"}
    series = Series.objects.get()
    assert series.instances.count() == 5 and series.problem == ""
    assert series.study.patient.site == users["annotator"].site
    assert body["series"][0]["instances"] == 5


def test_every_transfer_syntax_is_accepted(upload):
    names = [
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_RLE.dcm",
        "image_dfl.dcm",
        "SC_rgb_jpeg_dcmtk.dcm",
        "JPGExtended.dcm",
        "SC_rgb_jpeg_gdcm.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_jp2klossless.dcm",
        "693_J2KI.dcm",
    ]
    for name in names:
        dataset = pydicom.dcmread(real_file(name))
        dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        dataset.SeriesInstanceUID = generate_uid()
        dataset.PatientID = "P1"
        response = upload({name: to_bytes(dataset)})
        assert response.status_code == 201, (name, response.json())
    assert Instance.objects.count() == len(names)
    syntaxes = set(Instance.objects.values_list("transfer_syntax_uid", flat=True))
    assert len(syntaxes) == len(names)


def test_reupload_is_a_duplicate_and_a_changed_file_with_the_same_uid_is_rejected(upload):
    files = series_files(3)
    upload(files)
    again = upload(files)
    assert again.status_code == 201
    assert again.json()["duplicates"] == 3 and again.json()["imported"] == 0
    first_name = next(iter(files))
    changed = bytearray(files[first_name])
    changed[-10] ^= 0xFF
    response = upload({first_name: bytes(changed)})
    assert response.status_code == 400
    assert response.json()["files"][0]["code"] == "uid_conflict"
    assert Instance.objects.count() == 3


def test_bad_files_are_rejected_with_reasons_and_good_ones_still_import(upload, media_root):
    files = series_files(3)
    files["notes.txt"] = b"hello, not an image" * 20
    files["truncated.dcm"] = real_bytes("MR_truncated.dcm")
    files["plan.dcm"] = real_bytes("rtplan.dcm")
    response = upload(files)
    assert response.status_code == 400
    by_name = {f["name"]: f for f in response.json()["files"]}
    assert by_name["notes.txt"]["code"] == "not_dicom"
    assert by_name["truncated.dcm"]["code"] == "truncated"
    assert by_name["plan.dcm"]["code"] == "no_pixel_data"
    assert response.json()["imported"] == 3
    assert len(stored_files(media_root)) == 3


def test_an_over_size_file_is_rejected(upload, settings):
    settings.IMAGING_MAX_FILE_BYTES = 10_000
    response = upload({"big.dcm": real_bytes("CT_small.dcm")})
    assert response.json()["files"][0]["code"] == "too_large"
    assert not Instance.objects.exists()


def test_a_zip_imports_and_unsafe_members_are_refused(upload, media_root):
    members = {f"study/{n}": d for n, d in series_files(4).items()}
    members["../../etc/evil.dcm"] = real_bytes("CT_small.dcm")
    members["/abs/evil.dcm"] = real_bytes("CT_small.dcm")
    members["inner.zip"] = zip_of({"a.dcm": real_bytes("CT_small.dcm")})
    response = upload({"export.zip": zip_of(members)})
    by_code = {}
    for f in response.json()["files"]:
        by_code.setdefault(f["code"], []).append(f["name"])
    assert len(by_code[""]) == 4
    assert len(by_code["unsafe_path"]) == 2
    assert by_code["nested_archive"] == ["export.zip/inner.zip"]
    assert all(media_root in p.parents for p in stored_files(media_root))
    assert Instance.objects.count() == 4


def test_a_zip_bomb_is_refused_without_expanding_it(upload):
    response = upload({"bomb.zip": zip_of({"zeros.dcm": b"\0" * (50 * 1024 * 1024)})})
    assert response.status_code == 400
    assert response.json()["files"][0]["code"] == "zip_bomb"


def test_files_of_a_second_patient_are_rejected(upload):
    files = series_files(3)
    other = build_series(1)[0]
    other.PatientID = "SOMEONE-ELSE"
    files["other.dcm"] = to_bytes(other)
    response = upload(files)
    by_name = {f["name"]: f for f in response.json()["files"]}
    assert by_name["other.dcm"]["code"] == "mixed_patients"
    assert "SOMEONE-ELSE" not in str(response.json())
    assert Patient.objects.count() == 1 and Instance.objects.count() == 3


def test_a_slice_of_another_matrix_size_is_rejected_and_a_gap_is_reported(upload):
    series = build_series(6)
    del series[2]
    response = upload({f"s{k}.dcm": to_bytes(d) for k, d in enumerate(series)})
    assert response.status_code == 201
    assert response.json()["series"][0]["problem_code"] == "missing_slices"
    odd = build_series(1, source="MR_small.dcm")[0]
    odd.SeriesInstanceUID = series[0].SeriesInstanceUID
    odd.StudyInstanceUID = series[0].StudyInstanceUID
    odd.PatientID = series[0].PatientID
    response = upload({"odd.dcm": to_bytes(odd)})
    assert response.json()["files"][0]["code"] == "matrix_size_mismatch"
    assert Instance.objects.count() == 5


def test_nifti_and_nrrd_become_series(upload):
    from pathlib import Path

    import nibabel

    nifti = (Path(nibabel.__file__).parent / "tests/data/anatomical.nii").read_bytes()
    response = upload({"brain.nii": nifti}, patient_id="RESEARCH-1")
    assert response.status_code == 201, response.json()
    assert response.json()["files"] == [
        {
            "name": "brain.nii",
            "status": "imported",
            "code": "",
            "reason": "",
            "series_uid": response.json()["files"][0]["series_uid"],
        }
    ]
    series = Series.objects.get()
    assert series.source_format == "nifti" and series.instances.count() == 25
    assert Study.objects.get().patient.patient_id == "RESEARCH-1"


def test_only_uploaders_may_upload(upload):
    assert upload(series_files(1), as_user="reviewer").status_code == 403
    assert upload(series_files(1), as_user="norole").status_code == 403
    assert not Instance.objects.exists()
