"""Every endpoint and page x every role, an anonymous user and a user of another site: allowed
or refused exactly as the table says. The table is checked against the URL resolver, so a new
route (or a new method on one) without a row fails ``test_the_table_covers_every_route``.

Columns: anon (signed out), norole (signed in, no role), the five roles at the home site, and
other: a user of the other site holding the first role the row allows. Codes:
  +  allowed: not 401/403/404/405, no redirect to the login page, no server error
  -  refused: 403 (401 for the API), or for anon a redirect to the login page
  h  hidden: the object belongs to another site -- 404 (or 403); never its data
  .  not applicable (no role is allowed)
The audit trail is one hash chain for the installation, but an auditor reads only their own
site's entries (issue 20): another site's auditor gets 404 for one of this site's entries, and
its lists, object histories, exports and chain checks hold only its own site's entries ("+"
there means allowed to an own-site list; tests/backend/audit/test_security_site_scope.py
checks that none of this site's entries show).
Allowed requests are sent with an empty body, so a 400 is still "allowed": the permission
check let them through to validation. Each request runs in a savepoint rolled back after it,
so one role's state change never changes what the next role sees.
"""
import re

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

ROLES = ["annotator", "reviewer", "prompt_admin", "auditor", "site_admin"]
COLUMNS = ["anon", "norole", *ROLES, "other"]

MATRIX = """
route                                   method  anon norole ann rev padm aud sadm other
:api-schema                             GET     -    +      +   +   +    +   +    .
:api-docs                               GET     -    +      +   +   +    +   +    .
:api-redoc                              GET     -    +      +   +   +    +   +    .
accounts-api:session-login              GET     +    +      +   +   +    +   +    .
accounts-api:session-login              POST    +    +      +   +   +    +   +    .
accounts-api:session-logout             POST    -    +      +   +   +    +   +    .
accounts-api:me                         GET     -    +      +   +   +    +   +    .
accounts-api:user-list                  GET     -    -      -   -   -    -   +    +
accounts-api:user-detail                GET     -    -      -   -   -    -   +    h
accounts-api:user-set-roles             PUT     -    -      -   -   -    -   +    h
accounts-api:me-password                POST    -    +      +   +   +    +   +    .
accounts-api:user-list                  POST    -    -      -   -   -    -   +    +
accounts-api:user-disable               POST    -    -      -   -   -    -   +    h
accounts-api:user-enable                POST    -    -      -   -   -    -   +    h
accounts-api:user-reset-password        POST    -    -      -   -   -    -   +    h
audit-api:entries                       GET     -    -      -   -   -    +   -    +
audit-api:export-csv                    GET     -    -      -   -   -    +   -    +
audit-api:entry                         GET     -    -      -   -   -    +   -    h
audit-api:object-history                GET     -    -      -   -   -    +   -    +
audit-api:verify                        GET     -    -      -   -   -    +   -    +
audit-api:reads                         GET     -    -      -   -   -    +   -    +
audit-api:reads-csv                     GET     -    -      -   -   -    +   -    +
imaging:upload                          GET     -    -      +   -   -    -   +    +
imaging:upload                          POST    -    -      +   -   -    -   +    +
imaging-api:upload                      POST    -    -      +   -   -    -   +    +
imaging-api:pacs-studies                GET     -    -      +   -   -    -   +    +
imaging-api:pacs-import                 POST    -    -      +   -   -    -   +    +
imaging-api:qido-studies                GET     -    -      +   +   -    -   +    +
imaging-api:qido-series                 GET     -    -      +   +   -    -   +    h
imaging-api:qido-instances              GET     -    -      +   +   -    -   +    h
imaging-api:wado-metadata               GET     -    -      +   +   -    -   +    h
imaging-api:wado-frames                 GET     -    -      +   +   -    -   +    h
imaging-api:wado-uri                    GET     -    -      +   +   -    -   +    h
prompts-api:entries                     GET     -    +      +   +   +    +   +    .
prompts-api:entries                     POST    -    -      -   -   +    -   -    +
prompts-api:entry                       GET     -    +      +   +   +    +   +    .
prompts-api:diff                        GET     -    +      +   +   +    +   +    .
prompts-api:version                     GET     -    +      +   +   +    +   +    .
prompts-api:content                     PUT     -    -      -   -   +    -   -    h
prompts-api:edit                        POST    -    -      -   -   +    -   -    h
prompts-api:submit                      POST    -    -      -   -   +    -   -    h
prompts-api:approve                     POST    -    -      -   -   +    -   -    h
prompts-api:reject                      POST    -    -      -   -   +    -   -    h
prompts-api:retire                      POST    -    -      -   -   +    -   -    h
prompts-api:resolve                     GET     -    +      +   +   +    +   +    .
prompts-api:export                      POST    -    -      -   -   +    -   -    +
prompts-api:import-preview              POST    -    -      -   -   +    -   -    +
prompts-api:import                      POST    -    -      -   -   +    -   -    +
annotations-api:worklist                GET     -    -      +   +   -    +   +    +
annotations-api:series-layout           GET     -    -      +   +   -    -   +    h
annotations-api:job-list                GET     -    -      +   +   -    -   +    +
annotations-api:job-list                POST    -    -      +   -   -    -   -    h
annotations-api:job-detail              GET     -    -      +   +   -    -   +    h
annotations-api:job-cancel              POST    -    -      +   -   -    -   +    h
annotations-api:result-list             GET     -    -      +   +   -    -   +    +
annotations-api:result-detail           GET     -    -      +   +   -    -   +    h
annotations-api:result-confirm          POST    -    -      +   -   -    -   -    h
annotations-api:result-edit             POST    -    -      +   -   -    -   -    h
annotations-api:result-correct          POST    -    -      +   -   -    -   -    h
annotations-api:prefetch                POST    -    -      +   -   -    -   -    h
annotations-api:preview                 POST    -    -      +   -   -    -   -    h
annotations-api:result-mask             GET     -    -      +   +   -    -   +    h
annotations-api:result-reject           POST    -    -      +   -   -    -   -    h
annotations-api:result-reassign         POST    -    -      +   -   -    -   +    h
review-api:metrics                      GET     -    -      -   +   +    +   +    +
review-api:policy                       GET     -    -      -   +   -    +   +    +
review-api:policy                       PATCH   -    -      -   -   -    -   +    +
review-api:watched                      GET     -    -      -   -   -    -   +    +
review-api:watched                      POST    -    -      -   -   -    -   +    +
review-api:unwatch                      POST    -    -      -   -   -    -   +    h
review-api:item-list                    GET     -    -      -   +   -    -   -    +
review-api:item-detail                  GET     -    -      -   +   -    -   -    h
review-api:item-adjudicate              POST    -    -      -   +   -    -   -    h
review-api:item-mask                    GET     -    -      -   +   -    -   -    h
review-api:item-reader-mask             POST    -    -      -   +   -    -   -    h
review-api:item-release                 POST    -    -      -   +   -    -   -    h
review-api:item-start                   POST    -    -      -   +   -    -   -    h
review-api:item-verdict                 POST    -    -      -   +   -    -   -    h
review-api:alert-list                   GET     -    -      -   -   +    +   -    +
review-api:alert-acknowledge            POST    -    -      -   -   +    -   -    h
review-api:report-list                  GET     -    -      -   -   -    +   -    +
review-api:report-list                  POST    -    -      -   -   -    +   -    +
review-api:report-detail                GET     -    -      -   -   -    +   -    h
review-api:report-csv                   GET     -    -      -   -   -    +   -    h
review-api:report-pdf                   GET     -    -      -   -   -    +   -    h
exports-api:list                        GET     -    -      +   +   -    -   +    +
exports-api:seg                         POST    -    -      +   h   -    -   +    h
exports-api:seg-push                    POST    -    -      +   h   -    -   +    h
exports-api:nifti                       POST    -    -      +   h   -    -   +    h
exports-api:comparison                  GET     -    -      +   h   -    -   +    h
exports-api:references                  GET     -    -      +   +   -    -   +    +
exports-api:references                  POST    -    -      +   +   -    -   +    +
exports-api:references-pacs             POST    -    -      +   +   -    -   +    +
learning-api:sets                       GET     -    -      -   -   +    -   +    +
learning-api:sets                       POST    -    -      -   -   +    -   +    +
learning-api:jobs                       GET     -    -      -   -   +    -   +    +
learning-api:jobs                       POST    -    -      -   -   +    -   +    h
learning-api:job                        GET     -    -      -   -   +    -   +    h
learning-api:cancel                     POST    -    -      -   -   +    -   +    h
learning-api:models                     GET     -    -      -   -   +    -   +    +
learning-api:uncertainty                GET     -    -      +   +   +    -   +    h
learning:overview                       GET     -    -      -   -   +    -   +    +
core-api:worker-list                    GET     -    -      -   -   -    -   +    +
core-api:worker-detail                  GET     -    -      -   -   -    -   +    +
core-api:probe-list                     POST    -    -      -   -   -    -   +    +
core-api:probe-detail                   GET     -    -      -   -   -    -   +    +
accounts:login                          GET     +    +      +   +   +    +   +    .
accounts:login                          POST    +    +      +   +   +    +   +    .
accounts:logout                         POST    +    +      +   +   +    +   +    .
accounts:password                       GET     -    +      +   +   +    +   +    .
accounts:password                       POST    -    +      +   +   +    +   +    .
accounts:users                          GET     -    -      -   -   -    -   +    +
accounts:user-new                       GET     -    -      -   -   -    -   +    +
accounts:user-new                       POST    -    -      -   -   -    -   +    +
accounts:user                           GET     -    -      -   -   -    -   +    h
accounts:user-act                       POST    -    -      -   -   -    -   +    h
audit:trail                             GET     -    -      -   -   -    +   -    +
audit:export-csv                        GET     -    -      -   -   -    +   -    +
audit:entry                             GET     -    -      -   -   -    +   -    h
audit:object-history                    GET     -    -      -   -   -    +   -    +
audit:verify                            GET     -    -      -   -   -    +   -    +
audit:reads                             GET     -    -      -   -   -    +   -    +
audit:reads-csv                         GET     -    -      -   -   -    +   -    +
prompts:library                         GET     -    +      +   +   +    +   +    .
prompts:entry                           GET     -    +      +   +   +    +   +    .
prompts:version                         GET     -    +      +   +   +    +   +    .
prompts:edit                            GET     -    -      -   -   +    -   -    h
prompts:edit                            POST    -    -      -   -   +    -   -    h
prompts:act                             POST    -    -      -   -   +    -   -    h
prompts:diff                            GET     -    +      +   +   +    +   +    .
prompts:exchange                        GET     -    -      -   -   +    -   -    +
prompts:new-entry                       GET     -    -      -   -   +    -   -    +
prompts:exchange                        POST    -    -      -   -   +    -   -    +
annotations:worklist                    GET     -    -      +   +   -    +   +    +
annotations:viewer                      GET     -    -      +   +   -    -   +    h
annotations:result                      GET     -    -      +   +   -    +   +    h
review:queue                            GET     -    -      -   +   -    -   -    +
review:item                             GET     -    -      -   +   -    -   -    h
review:item-step                        POST    -    -      -   +   -    -   -    h
review:dashboard                        GET     -    -      -   +   +    +   +    +
review:alerts                           GET     -    -      -   -   +    +   -    +
review:policy                           GET     -    -      -   -   -    -   +    +
review:policy                           POST    -    -      -   -   -    -   +    +
review:reports                          GET     -    -      -   -   -    +   -    +
review:reports                          POST    -    -      -   -   -    +   -    +
exports:result                          GET     -    -      +   h   -    -   +    h
exports:download-seg                    POST    -    -      +   h   -    -   +    h
exports:download-nifti                  POST    -    -      +   h   -    -   +    h
exports:push-seg                        POST    -    -      +   h   -    -   +    h
exports:references                      GET     -    -      +   +   -    -   +    h
exports:references                      POST    -    -      +   +   -    -   +    h
ops:livez                               GET     +    +      +   +   +    +   +    .
ops:readyz                              GET     +    +      +   +   +    +   +    .
ops:metrics                             GET     +    +      +   +   +    +   +    .
core:healthz                            GET     +    +      +   +   +    +   +    .
core:home                               GET     -    +      +   +   +    +   +    .
"""


def parse(table: str) -> dict[tuple[str, str], dict[str, str]]:
    lines = [line.split() for line in table.strip().splitlines()[1:]]
    rows = {}
    for route, method, *codes in lines:
        assert len(codes) == len(COLUMNS), route
        assert (route, method) not in rows, f"{route} {method} appears twice"
        rows[(route, method)] = dict(zip(COLUMNS, codes, strict=True))
    return rows


ROWS = parse(MATRIX)


def routes() -> dict[tuple[str, str], URLPattern]:
    """(namespace:name, method) -> pattern, for every route the resolver knows."""
    found = {}

    def walk(patterns, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
                continue
            route = f"{namespace or ''}:{entry.name}"
            for method in methods_of(route, entry):
                found[(route, method)] = entry

    walk(get_resolver().url_patterns, None)
    return found


def methods_of(route: str, pattern: URLPattern) -> list[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted(m.upper() for m in actions if m not in ("options", "head"))
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return sorted(m.upper() for m in view_class.http_method_names
                      if m not in ("options", "head") and hasattr(view_class, m))
    # Plain function views: the table lists their methods; the route must appear at least once.
    return [m for (name, m) in ROWS if name == route] or ["GET"]


def test_the_table_covers_every_route():
    known = routes()
    missing = sorted(set(known) - set(ROWS))
    stale = sorted(set(ROWS) - set(known))
    assert not missing, f"routes without a row in the authorization matrix: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def url_for(route: str, pattern: URLPattern, world, users) -> str:
    from django.urls import reverse

    names = pattern.pattern.regex.groupindex.keys() if hasattr(pattern.pattern, "regex") else []
    kwargs = {name: argument(route, name, world, users) for name in names}
    url = reverse(route.lstrip(":"), kwargs=kwargs)
    return url + QUERIES.get(route, lambda w: "")(world)


def argument(route: str, name: str, world, users):
    app = route.split(":")[0]
    by_route = {
        "annotations-api:series-layout": world.series.pk,
        "annotations:viewer": world.series.pk,
        "exports:references": world.series.pk,
        "accounts-api:user-detail": users["annotator"].pk,
        "accounts-api:user-set-roles": users["annotator"].pk,
        "accounts-api:user-disable": users["annotator"].pk,
        "accounts-api:user-enable": users["annotator"].pk,
        "accounts-api:user-reset-password": users["annotator"].pk,
        "accounts:user": users["annotator"].pk,
        "accounts:user-act": users["annotator"].pk,
        "review-api:alert-acknowledge": world.alert.pk,
        "core-api:probe-detail": world.probe.pk,
    }
    if name == "pk" and route in by_route:
        return by_route[route]
    if route == "accounts:user-act" and name == "step":
        return "roles"
    if name == "pk":
        return {
            "prompts-api": world.version.pk, "prompts": world.version.pk,
            "annotations-api": world.result.pk, "annotations": world.result.pk,
            "review-api": world.qa_item.pk, "review": world.qa_item.pk,
            "exports-api": world.confirmed.pk, "exports": world.confirmed.pk,
        }[app]
    return {
        "public_id": {"review-api": world.report.public_id,
                      "learning-api": world.training_job.public_id}.get(app, world.job.public_id),
        "seq": world.audit_seq,
        "object_type": "annotations.result",
        "object_id": str(world.result.pk),
        "study_uid": world.series.study.study_instance_uid,
        "series_uid": world.series.series_instance_uid,
        "sop_uid": world.instance.sop_instance_uid,
        "frames": "1",
        "key": world.version.entry.key,
        "action": "submit",
        "step": "start",
        "user_id": world.watched_user.pk,
        "hostname": world.worker,
    }[name]


QUERIES = {
    "imaging-api:wado-uri": lambda w: (
        f"?requestType=WADO&studyUID={w.series.study.study_instance_uid}"
        f"&seriesUID={w.series.series_instance_uid}&objectUID={w.instance.sop_instance_uid}"),
    "prompts-api:diff": lambda w: f"?a={w.version.pk}&b={w.version.pk}",
    "prompts:diff": lambda w: f"?a={w.version.pk}&b={w.version.pk}",
    "learning-api:uncertainty": lambda w: f"?prompt_version={w.version.pk}",
}
# Bodies for rows whose "other" column is "h": the request must reach the object lookup.
BODIES = {
    "exports-api:seg": lambda w: {"results": [w.confirmed.pk]},
    "exports-api:seg-push": lambda w: {"results": [w.confirmed.pk]},
    "exports-api:references": lambda w: {"series": w.series.pk},
    "exports-api:references-pacs": lambda w: {"series": w.series.pk},
    "annotations-api:job-list": lambda w: {
        "series": w.series.pk, "prompt_version": w.version.pk,
        "geometry": {"prompts": [{"slice": 1, "box": [90, 100, 150, 140]}]}},
    "annotations-api:prefetch": lambda w: {
        "series": w.series.pk, "prompt_version": w.version.pk, "slices": [1]},
    "annotations-api:preview": lambda w: {
        "series": w.series.pk, "prompt_version": w.version.pk, "slice": 1,
        "box": [90, 100, 150, 140]},
    "review-api:item-verdict": lambda w: {"verdict": "agree", "password": PASSWORD},
    "review-api:item-adjudicate": lambda w: {
        "outcome": "upheld", "reason": "checked", "password": PASSWORD},
    "review-api:item-release": lambda w: {"reason": "no time"},
    "review-api:unwatch": lambda w: {"reason": "done"},
    "review-api:alert-acknowledge": lambda w: {"note": "will revise"},
    "accounts-api:user-set-roles": lambda w: {"roles": ["auditor"]},
    "learning-api:jobs": lambda w: {"training_set": w.training_set.pk},
}
# Answers that mean "allowed" although their status says otherwise: the PACS of the tests is
# not configured (502 names it), and a result without a reference mask has no comparison.
ALLOWED_DESPITE = {
    ("imaging-api:pacs-studies", 502): "PACS",
    ("imaging-api:pacs-import", 502): "PACS",
    ("exports-api:seg-push", 502): "PACS",
    ("exports-api:comparison", 404): "No reference mask",
    ("annotations-api:preview", 503): "No worker running",  # none runs in this test
}


def verdict(route: str, code: str, column: str, response, is_page: bool) -> str | None:
    """None when ``response`` matches ``code``, else what was wrong."""
    status = response.status_code
    to_login = status == 302 and "/accounts/login/" in response.get("Location", "")
    if route == "accounts:logout":
        to_login = False  # signing out lands on the login page: that is success
    excuse = ALLOWED_DESPITE.get((route, status))
    if code == "+" and excuse and excuse in response.content.decode(errors="replace"):
        return None
    if status >= 500:
        return f"server error {status}"
    if code == "+":
        if status in (401, 403, 404, 405) or to_login:
            return f"refused with {status}"
        return None
    if code == "-":
        if column == "anon" and is_page:
            return None if to_login else f"anonymous page answered {status}, not the login page"
        return None if status in (401, 403) else f"allowed with {status}"
    if code == "h":
        return None if status in (403, 404) else f"another site's object answered {status}"
    return None


@pytest.mark.django_db
def test_every_route_allows_and_refuses_exactly_as_the_table_says(world, users):
    known = routes()
    failures = []
    for (route, method), expected in ROWS.items():
        pattern = known.get((route, method))
        if pattern is None:
            continue
        url = url_for(route, pattern, world, users)
        is_page = not route.split(":")[0].endswith("-api") and route.split(":")[0] != ""
        allowed_roles = [r for r in ROLES if expected[r] == "+"]
        for column, code in expected.items():
            if code == ".":
                continue
            user = {"anon": None, "norole": users["norole"]}.get(column)
            if column in ROLES:
                user = users[column]
            if column == "other":
                user = users[f"{allowed_roles[0]}_outsider"]
            client = APIClient()
            if user is not None:
                client.force_login(user)
            body = BODIES.get(route, lambda w: {})(world)
            savepoint = transaction.savepoint()
            try:
                response = client.generic(
                    method, url, data=_encode(body), content_type="application/json")
            finally:
                transaction.savepoint_rollback(savepoint)
            problem = verdict(route, code, column, response, is_page)
            if problem:
                failures.append(f"{method:5} {url:70} {column:12} expected {code}: {problem}")
    assert not failures, "\n" + "\n".join(failures)


def _encode(body: dict) -> str:
    import json

    return json.dumps(body)


def test_the_table_is_one_row_per_route_and_method():
    assert all(re.fullmatch(r"[a-z-]*:[a-z-]+", route) for route, _ in ROWS)
