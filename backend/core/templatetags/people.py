from django import template

from core.people import printed_person_name

register = template.Library()


@register.filter
def person_name(value) -> str:
    """``{{ patient.name|person_name }}``: "Demo^HeadCT" shows as "Demo, HeadCT"."""
    return printed_person_name(value)
