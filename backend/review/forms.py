"""Forms of the QA pages; the API serializers validate the same inputs for the API."""
from django import forms

from .metrics import DIMENSIONS, PERIODS
from .models import Adjudication, ReviewMode, Verdict

# The policy's counts are PositiveIntegerFields: 2**31 - 1 is the most PostgreSQL stores (a
# larger number was a 500, "integer out of range", instead of a message on the field).
MAX_COUNT = 2**31 - 1


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.RadioSelect)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Required when you disagree.")
    password = forms.CharField(widget=forms.PasswordInput, strip=False,
                               help_text="Your password again: this is an electronic signature.")


class AdjudicationForm(forms.Form):
    outcome = forms.ChoiceField(choices=Adjudication.choices, widget=forms.RadioSelect)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(widget=forms.PasswordInput, strip=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000)


class MetricsFilter(forms.Form):
    group_by = forms.ChoiceField(choices=[(d, d.replace("_", " ")) for d in DIMENSIONS],
                                 required=False)
    period = forms.ChoiceField(choices=[(p, p) for p in PERIODS], required=False)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    structure = forms.CharField(required=False)


class PolicyForm(forms.Form):
    first_n_per_version = forms.IntegerField(min_value=0, max_value=MAX_COUNT)
    review_mode = forms.ChoiceField(choices=ReviewMode.choices)
    sampling_seed = forms.CharField(max_length=64)
    alert_min_decided = forms.IntegerField(min_value=0, max_value=MAX_COUNT)
    alert_edit_rate = forms.FloatField(min_value=0, max_value=1)
    alert_reject_rate = forms.FloatField(min_value=0, max_value=1)
    alert_min_mean_dice = forms.FloatField(min_value=0, max_value=1)
    reason = forms.CharField(required=False, max_length=2000)


class WatchForm(forms.Form):
    annotator = forms.ModelChoiceField(queryset=None)
    reason = forms.CharField(max_length=2000)

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import User

        self.fields["annotator"].queryset = User.objects.filter(
            site=site, groups__name="annotator", is_active=True).order_by("username")


class ReportForm(forms.Form):
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    structure_key = forms.CharField(required=False)
