"""Filtering the trail by user, object, action and period: one form for the auditor pages,
the API and the CSV export, so each reads the same query string the same way."""
from datetime import UTC, timedelta

from django import forms
from django.db.models import Q, QuerySet

from .models import AuditEntry


class _Period:
    """The period fields' checks, and what a filter records, shared by the filter forms."""

    @staticmethod
    def _sane(value, name: str):
        """Times a database can compare: UTC offsets within ±14 h, years 1900-9998."""
        if value is None:
            return None
        offset = value.utcoffset()
        if offset is not None and abs(offset) > timedelta(hours=14):
            raise forms.ValidationError(f"{name}: a UTC offset must lie within ±14 hours.")
        if not 1900 <= value.year <= 9998:
            raise forms.ValidationError(f"{name}: the year must lie between 1900 and 9998.")
        return value.astimezone(UTC)

    def clean_since(self):
        return self._sane(self.cleaned_data["since"], "since")

    def clean_until(self):
        until = self._sane(self.cleaned_data["until"], "until")
        raw = (self.data.get("until") or "").strip()
        if until is not None and len(raw) == len("2026-01-31"):
            until += timedelta(days=1)  # a bare date means up to the end of that day
        return until

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            raise forms.ValidationError("The period must start before it ends.")
        return cleaned

    def applied(self) -> dict:
        """The filters in force, as recorded in the auditor's own read entry."""
        return {
            name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }

    def error_text(self) -> str:
        return "; ".join(
            f"{name}: {' '.join(errors)}" if name != "__all__" else " ".join(errors)
            for name, errors in self.errors.items()
        )


class TrailFilter(_Period, forms.Form):
    user = forms.CharField(required=False, max_length=150, help_text="User name or user id.")
    action = forms.CharField(
        required=False, max_length=100, help_text="Exact action, or a prefix ending in * ."
    )
    object_type = forms.CharField(required=False, max_length=100)
    object_id = forms.CharField(required=False, max_length=100)
    since = forms.DateTimeField(required=False, help_text="From this time (UTC), inclusive.")
    until = forms.DateTimeField(
        required=False, help_text="Up to this time (UTC); a date alone includes that day."
    )

    def filter(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        """``entries`` narrowed to the cleaned filters; call after ``is_valid()``."""
        data = self.cleaned_data
        if data.get("user"):
            by_user = Q(actor_username__iexact=data["user"])
            if data["user"].isdigit():
                by_user |= Q(actor_id=int(data["user"]))
            entries = entries.filter(by_user)
        action = data.get("action")
        if action:
            entries = (
                entries.filter(action__startswith=action[:-1])
                if action.endswith("*")
                else entries.filter(action=action)
            )
        for name in ("object_type", "object_id"):
            if data.get(name):
                entries = entries.filter(**{name: data[name]})
        if data.get("since"):
            entries = entries.filter(at__gte=data["since"])
        if data.get("until"):
            entries = entries.filter(at__lt=data["until"])
        return entries


class ReadFilter(_Period, forms.Form):
    """Filtering the read log by user, patient, series, object, data read and period."""

    user = forms.CharField(required=False, max_length=150, help_text="User name or user id.")
    patient = forms.CharField(required=False, max_length=150,
                              help_text="Patient ID (as in DICOM), or the patient's record id.")
    series = forms.CharField(required=False, max_length=100,
                             help_text="Series instance UID, or the series' record id.")
    object_type = forms.CharField(required=False, max_length=100)
    object_id = forms.CharField(required=False, max_length=100)
    what = forms.CharField(required=False, max_length=100, help_text="frames, metadata, ...")
    since = forms.DateTimeField(required=False, help_text="From this time (UTC), inclusive.")
    until = forms.DateTimeField(
        required=False, help_text="Up to this time (UTC); a date alone includes that day."
    )

    def filter(self, reads: QuerySet) -> QuerySet:
        """``reads`` (read records) narrowed to the cleaned filters; after ``is_valid()``."""
        from imaging.models import Patient, Series

        data = self.cleaned_data
        if data.get("user"):
            by_user = Q(actor_username__iexact=data["user"])
            if data["user"].isdigit():
                by_user |= Q(actor_id=int(data["user"]))
            reads = reads.filter(by_user)
        if data.get("patient"):
            value = data["patient"]
            ids = list(Patient.objects.filter(patient_id=value).values_list("pk", flat=True))
            if value.isdigit() and int(value) < 2**63:
                ids.append(int(value))
            reads = reads.filter(patient_id__in=ids)
        if data.get("series"):
            value = data["series"]
            ids = list(Series.objects.filter(series_instance_uid=value)
                       .values_list("pk", flat=True))
            if value.isdigit() and int(value) < 2**63:
                ids.append(int(value))
            reads = reads.filter(series_id__in=ids)
        for name in ("object_type", "object_id", "what"):
            if data.get(name):
                reads = reads.filter(**{name: data[name]})
        if data.get("since"):
            reads = reads.filter(at__gte=data["since"])
        if data.get("until"):
            reads = reads.filter(at__lt=data["until"])
        return reads
