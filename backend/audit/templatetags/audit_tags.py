from django import template

from audit import signatures as esign

register = template.Library()


@register.inclusion_tag("audit/_signatures.html")
def signatures_of(target, content_sha256=None):
    """Every signature on ``target`` with printed name, date and time (UTC) and meaning, as
    each display of a signed record must show them (21 CFR 11.50). Pass the record's current
    content hash to flag a signature whose content changed:
    ``{% load audit_tags %}{% signatures_of mask_version mask_version.sha256 %}``."""
    found = esign.signatures_of(target).select_related("audit_entry")
    return {"signatures": esign.checked(found, target, content_sha256)}
