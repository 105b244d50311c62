"""Staff login and logout: Django auth (argon2), a database-backed rate limit, audit events.
Citizens (portal): session start after a one-time code, and the profile (national number).

The rate limit counts failed attempts in the last `LOGIN_RATE_WINDOW_SECONDS`, per username
and per client address (`LoginAttempt` rows, shared by every worker process). While either
count is at `LOGIN_RATE_LIMIT`, no password is checked at all: the attempt is refused with a
message saying when to try again. A successful login clears the username's count (not the
address's: one valid account must not reset an address that is guessing others').
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from baladiya.accounts import ratelimit
from baladiya.accounts.models import Citizen, LoginAttempt, User
from baladiya.accounts.permissions import is_citizen_account
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.core.validators import clean_mobile, clean_national_number

logger = logging.getLogger(__name__)


class LoginFailed(DomainError):
    status = 400
    code = "login_failed"


class LoginBlocked(DomainError):
    status = 429
    code = "login_blocked"


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind a reverse proxy, `TRUSTED_PROXY_COUNT` (default 0) says how
    many proxies append to X-Forwarded-For; only their entries are trusted."""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0:
        hops = [h.strip() for h in forwarded.split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies][:45]
    elif forwarded:
        _warn_forwarded_ignored()
    return str(request.META.get("REMOTE_ADDR") or "unknown")[:45]


_forwarded_warned = False


def _warn_forwarded_ignored() -> None:
    """Once per process: behind a proxy with TRUSTED_PROXY_COUNT forgotten, every citizen
    would share the proxy's address (and its rate limits). A client may also send the header
    itself, so this is a warning to check the setting, not an error."""
    global _forwarded_warned
    if _forwarded_warned:
        return
    _forwarded_warned = True
    logger.warning(
        "X-Forwarded-For received but BALADIYA_TRUSTED_PROXY_COUNT is 0: the header is ignored "
        "and the peer address is used. Behind a reverse proxy, set it to the number of proxies, "
        "or every client shares the proxy's address for rate limits."
    )


def _key(username: str) -> str:
    return username.strip().casefold()[:150]


def _window_start(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=settings.LOGIN_RATE_WINDOW_SECONDS)


def _recent_failures(
    username: str, ip: str, now: dt.datetime
) -> tuple[QuerySet[LoginAttempt], QuerySet[LoginAttempt]]:
    since = _window_start(now)
    by_user = LoginAttempt.objects.filter(username=_key(username), at__gte=since)
    last_success = (
        by_user.filter(succeeded=True).order_by("-at").values_list("at", flat=True).first()
    )
    user_failures = by_user.filter(succeeded=False)
    if last_success is not None:
        user_failures = user_failures.filter(at__gt=last_success)
    ip_failures = LoginAttempt.objects.filter(ip=ip, at__gte=since, succeeded=False)
    return user_failures, ip_failures


def blocked_for(username: str, ip: str, now: dt.datetime | None = None) -> int:
    """Seconds until this username/address may try again (0: not blocked)."""
    now = now or timezone.now()
    limit = settings.LOGIN_RATE_LIMIT
    window = dt.timedelta(seconds=settings.LOGIN_RATE_WINDOW_SECONDS)
    wait = 0.0
    for failures in _recent_failures(username, ip, now):
        if failures.count() >= limit:
            # Blocked until the oldest failure that still counts leaves the window.
            times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
            release = times[-1] + window
            wait = max(wait, (release - now).total_seconds())
    return max(0, math.ceil(wait))


def _blocked_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed login attempts. Try again in %(minutes)d minute.",
        "Too many failed login attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def log_in(request: HttpRequest, username: str, password: str) -> User:
    """Authenticate and start a session, or raise LoginBlocked / LoginFailed.

    Inactive accounts are refused like a wrong password (Django's backend does not
    authenticate them), so the message does not reveal which accounts exist.
    Side effects: a LoginAttempt row and an audit event, except while blocked (nothing).
    """
    ip = client_ip(request)
    key = _key(username)
    wait = blocked_for(username, ip)
    if wait:
        # Nothing is written while blocked: anonymous hammering must not be able to force
        # writes (and audit-chain locks) that compete with the cashiers' transactions.
        raise LoginBlocked(_blocked_message(wait))
    user = auth.authenticate(request, username=username.strip(), password=password)
    if not isinstance(user, User) or not user.is_active:
        with transaction.atomic():
            LoginAttempt.objects.create(username=key, ip=ip, succeeded=False)
            audit.record("login.failed", actor="anonymous", username=key, ip=ip)
            if wait := blocked_for(username, ip):  # this failure started a block: say so once
                audit.record("login.blocked", actor="anonymous", username=key, ip=ip, retry_in=wait)
        raise LoginFailed(_("Wrong username or password, or the account is disabled."))
    with transaction.atomic():
        auth.login(request, user)
        LoginAttempt.objects.create(username=key, ip=ip, succeeded=True)
        audit.record(
            "login.succeeded",
            actor=user,
            obj=user,
            center=user.center.code if user.center_id and user.center else "",
            ip=ip,
        )
    return user


def log_out(request: HttpRequest) -> None:
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        audit.record("logout", actor=user, obj=user, ip=client_ip(request))
    auth.logout(request)


def purge_login_attempts(older_than_days: int = 30) -> int:
    """Delete attempts long past the rate-limit window (a periodic task may call this)."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    deleted, _counts = LoginAttempt.objects.filter(at__lt=cutoff).delete()
    return deleted


# ---------------------------------------------------------------- citizens (portal)

PROFILE_SCOPE = "profile-refused"
PROFILE_REFUSALS_PER_DAY = 5  # national numbers tried that belong to someone else


class ProfileRefused(DomainError):
    status = 409
    code = "profile_refused"


class ProfileThrottled(DomainError):
    status = 429
    code = "profile_throttled"


def log_in_citizen(request: HttpRequest, user: User) -> None:
    """Start the session of a citizen whose one-time code was just verified (`otp.py`)."""
    if not is_citizen_account(user):
        raise NotAllowed(_("This account cannot use the citizen portal."))
    with transaction.atomic():
        auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        audit.record("citizen.login", actor=user, obj=user, ip=client_ip(request))


def complete_profile(
    user: User,
    *,
    national_number: str,
    first_name: str,
    last_name: str,
    father_name: str = "",
    mother_name: str = "",
    birth_date: dt.date | None = None,
) -> Citizen:
    """Attach a citizen record to a citizen account (once).

    A new national number creates the record with the verified mobile. A known one is linked
    only if its record carries this very mobile and no other account holds it: otherwise a
    stranger could claim someone's applications and documents by typing their number, so the
    person must visit a center (ProfileRefused, audited; at most a few such tries a day).
    Side effects: audit `citizen.profile_created` or `citizen.profile_linked`.
    """
    if not is_citizen_account(user):
        raise NotAllowed(_("This account cannot use the citizen portal."))
    try:
        number = clean_national_number(national_number)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="national_number") from exc
    key = str(user.pk)
    wait = ratelimit.wait_seconds(PROFILE_SCOPE, key, PROFILE_REFUSALS_PER_DAY, 86400)
    if wait:
        raise ProfileThrottled(ratelimit.minutes_message(wait))
    names = {
        "first_name": first_name.strip(),
        "father_name": father_name.strip(),
        "last_name": last_name.strip(),
        "mother_name": mother_name.strip(),
        "birth_date": birth_date,
    }
    if not names["first_name"] or not names["last_name"]:
        raise DomainError(_("Enter your first and family names."), code="names")
    citizen = _link_or_create(user, number, names)
    if citizen is None:
        with transaction.atomic():
            ratelimit.hit(PROFILE_SCOPE, key)
            audit.record("citizen.link_refused", actor=user, obj=user, national_number=number)
        raise ProfileRefused(
            _(
                "A citizen with this national number is registered with another mobile number. "
                "To protect their records, please visit a service center with your ID card "
                "to update your mobile number."
            )
        )
    user.citizen = citizen
    user.full_name = citizen.full_name[:150]
    return citizen


def _same_mobile(stored: str, phone: str) -> bool:
    try:
        return bool(stored) and clean_mobile(stored) == phone
    except ValidationError:
        return False


def _link_or_create(user: User, number: str, names: dict[str, Any]) -> Citizen | None:
    """The linked record, or None when the national number belongs to someone else."""
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=user.pk)
        if account.citizen_id is not None:
            raise Conflict(_("Your profile is already complete."), code="profile_complete")
        phone = account.username
        existing = Citizen.objects.select_for_update().filter(national_number=number).first()
        if existing is not None:
            taken = User.objects.filter(citizen=existing).exists()
            if taken or not _same_mobile(existing.phone, phone):
                return None
            citizen, action = existing, "citizen.profile_linked"
        else:
            try:
                with transaction.atomic():  # savepoint: a clerk may register them right now
                    citizen = Citizen.objects.create(national_number=number, phone=phone, **names)
            except IntegrityError:
                return None
            action = "citizen.profile_created"
        account.citizen = citizen
        account.full_name = citizen.full_name[:150]  # staff see a name in the history
        account.save(update_fields=["citizen", "full_name"])
        audit.record(action, actor=account, obj=citizen, national_number=number)
    return citizen
