"""Cookie consent: what a reader decided, and recording a new decision.

django-cookie-consent (the package) holds the cookie groups and cookies as data,
keeps each group's decision in its `cookie_consent` cookie, and deletes the
cookies of groups a reader has not accepted (its CleanCookiesMiddleware). We add
what it lacks:

- a signed `consent_meta` cookie with a random consent id, the policy revision
  and the server's time of the decision, so a choice lapses after
  CONSENT_MAX_AGE_DAYS and when CONSENT_POLICY_REVISION is bumped;
- a ConsentRecord per decision (our proof of consent, kept when groups change);
- "decided" means every optional group has a current decision: a group with a
  new cookie is asked again, and a group that declares no cookie is never taken
  as accepted (the package would, and our system check refuses such a group).
"""

import copy
import uuid
from dataclasses import dataclass

from cookie_consent.cache import all_cookie_groups
from cookie_consent.middleware import CleanCookiesMiddleware as _CleanCookies
from cookie_consent.models import CookieGroup
from cookie_consent.processor import CookiesProcessor
from cookie_consent.util import get_cookie_value_from_request
from django.conf import settings
from django.core import checks, signing

from briefings.consent.models import ConsentRecord

META_COOKIE = "consent_meta"
META_SALT = "briefings.consent-meta"
ANALYTICS = "analytics"
EMBEDS = "embeds"
READER_COOKIE = "briefings_reader"


@dataclass(frozen=True)
class ConsentState:
    decided: bool
    accepted: frozenset[str] = frozenset()

    def allows(self, group: str) -> bool:
        return self.decided and group in self.accepted

    @property
    def cache_key(self) -> str:
        """Pages differ only by this; it says nothing about who the reader is."""
        if not self.decided:
            return "undecided"
        return "decided:" + ",".join(sorted(self.accepted))


def optional_groups():
    """The optional cookie groups, from the package's cache (no query per page)."""
    return list(all_cookie_groups().values())


def max_age_seconds() -> int:
    return settings.CONSENT_MAX_AGE_DAYS * 24 * 60 * 60


def _meta(request, *, max_age=None):
    raw = request.COOKIES.get(META_COOKIE)
    if not raw:
        return None
    try:
        return signing.loads(raw, salt=META_SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None


def get_state(request) -> ConsentState:
    """The reader's consent, as this server recorded it. Cached on the request."""
    cached = getattr(request, "_consent_state", None)
    if cached is not None:
        return cached
    meta = _meta(request, max_age=max_age_seconds())
    state = ConsentState(decided=False)
    if meta is not None and meta.get("rev") == settings.CONSENT_POLICY_REVISION:
        accepted, undecided = set(), False
        for group in optional_groups():
            value = get_cookie_value_from_request(request, group.varname)
            if value is None:
                undecided = True
            elif value and group.cookie_set.all():
                accepted.add(group.varname)
        if not undecided:
            state = ConsentState(decided=True, accepted=frozenset(accepted))
    request._consent_state = state
    return state


def _set_cookie(response, name, value):
    response.set_cookie(
        name,
        value,
        max_age=max_age_seconds(),
        secure=settings.COOKIE_CONSENT_SECURE,
        httponly=True,
        samesite="Lax",
    )


class DecisionProcessor(CookiesProcessor):
    """The package's processing of a decision, deleting a declined group's
    cookies only where the reader has them: no Set-Cookie for a cookie the
    browser never had (the package sends one for every declared cookie)."""

    def _delete_cookies(self, cookie_groups):
        for group in cookie_groups:
            if group.is_deletable:
                for cookie in group.cookie_set.all():
                    if cookie.name in self.request.COOKIES:
                        self.response.delete_cookie(
                            cookie.name, cookie.path, cookie.domain
                        )


def record_decision(request, response, accepted: set[str], method: str):
    """Apply a decision to the response's cookies and keep the proof of it.

    The package's CookiesProcessor writes the `cookie_consent` cookie (the
    accepted groups at their version, the others declined) and deletes the
    declined groups' cookies the reader has; we add the signed meta cookie
    and the record.
    """
    groups = optional_groups()
    declined = [group for group in groups if group.varname not in accepted]
    DecisionProcessor(request, response).process(declined, action="decline")
    source = request
    if declined:
        # The processor starts from the request's cookie: let the second
        # action start from the one the first has just written.
        source = copy.copy(request)
        source.COOKIES = {
            **request.COOKIES,
            settings.COOKIE_CONSENT_NAME: response.cookies[
                settings.COOKIE_CONSENT_NAME
            ].value,
        }
    chosen = [group for group in groups if group.varname in accepted]
    DecisionProcessor(source, response).process(chosen, action="accept")
    decisions = {
        group.varname: {
            "accepted": group.varname in accepted,
            "version": group.get_version(),
        }
        for group in groups
    }
    previous = _meta(request) or {}
    consent_id = previous.get("id") or str(uuid.uuid4())
    record = ConsentRecord.objects.create(
        consent_id=consent_id,
        policy_revision=settings.CONSENT_POLICY_REVISION,
        method=method,
        decisions=decisions,
    )
    meta = {"id": consent_id, "rev": settings.CONSENT_POLICY_REVISION}
    _set_cookie(response, META_COOKIE, signing.dumps(meta, salt=META_SALT))
    request._consent_state = ConsentState(decided=True, accepted=frozenset(accepted))
    return record


def reader_id(request, response) -> str | None:
    """The analytics reader id, set on first use; None without consent.

    A reader id left from a consent that has lapsed (six months, a new policy
    revision) is deleted, not merely ignored.
    """
    if not get_state(request).allows(ANALYTICS):
        if READER_COOKIE in request.COOKIES:
            response.delete_cookie(READER_COOKIE)
        return None
    value = request.COOKIES.get(READER_COOKIE, "")
    if len(value) != 32 or not value.isalnum():
        value = uuid.uuid4().hex
        _set_cookie(response, READER_COOKIE, value)
    return value


class CleanCookiesMiddleware(_CleanCookies):
    """The package's middleware, minus its work for a request with no cookies.

    With no cookie in the request there is none to delete, so the cookie groups
    need not be read from the cache (most readers' requests).
    """

    def process_response(self, request, response):
        if request.COOKIES:
            super().process_response(request, response)
        return response


def check_cookie_declarations(app_configs=None, **kwargs):
    """Every optional group declares cookies, and every cookie says it all."""
    errors = []
    try:
        groups = list(CookieGroup.objects.prefetch_related("cookie_set__declaration"))
    except Exception:  # noqa: BLE001 - tables not migrated yet: nothing to check
        return errors
    for group in groups:
        if not group.is_required and not group.cookie_set.all():
            errors.append(
                checks.Error(
                    f"Optional cookie group '{group.varname}' declares no cookie.",
                    hint="Declare its cookies, or delete the group.",
                    id="briefings.E001",
                )
            )
        for field in ("name", "description"):
            if not getattr(group, field).strip():
                errors.append(
                    checks.Error(
                        f"Cookie group '{group.varname}' has an empty {field}.",
                        id="briefings.E002",
                    )
                )
        for cookie in group.cookie_set.all():
            declaration = getattr(cookie, "declaration", None)
            blank = (
                ["declaration"]
                if declaration is None
                else [
                    f
                    for f in ("provider", "purpose", "lifetime")
                    if not getattr(declaration, f).strip()
                ]
            )
            if blank:
                errors.append(
                    checks.Error(
                        f"Cookie '{cookie.name}' ({group.varname}) is missing: "
                        + ", ".join(blank),
                        hint="Say who sets it, what for and how long it lives.",
                        id="briefings.E003",
                    )
                )
    return errors
