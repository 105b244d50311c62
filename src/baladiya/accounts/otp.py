"""Citizens' sign-up and login: a one-time code sent by SMS to a Syrian mobile number.

- `request_code(phone, ip)` sends a fresh 6-digit code through the notifications outbox. A new
  code replaces the number's older ones. Limits: codes sent to one number per
  `OTP_RATE_WINDOW_SECONDS` (`OTP_PHONE_LIMIT`) and per `OTP_DAILY_WINDOW_SECONDS`
  (`OTP_PHONE_DAILY_LIMIT`); codes requested from one address (`OTP_IP_LIMIT`, a flood guard
  set high: a carrier's NAT puts many citizens behind one address). A locked number (below)
  gets no code.
- `verify_code(phone, code, ip)` checks it: valid `OTP_CODE_TTL_SECONDS`, single use, at most
  `OTP_MAX_ATTEMPTS` wrong tries (then the code is dead). Failed tries are counted per number
  over the daily window (`OTP_PHONE_FAILURE_LIMIT`: then the number is locked for code checks,
  from every address, until the window passes: guesses spread over many addresses), per
  (address, number) within the hourly window (`OTP_IP_PHONE_FAILURE_LIMIT`) and per address
  alone (`OTP_IP_FAILURE_LIMIT`, a flood guard against guesses sprayed over many numbers).
  The first success for a number creates its citizen account (username = the number in
  E.164, no password, no role).
- Codes are stored as an HMAC keyed with SECRET_KEY: a copy of the table does not reveal them
  (a plain hash of six digits falls to a million guesses). The SMS itself is queued with a
  dedupe key starting `OTP_DEDUPE_PREFIX`; the outbox blanks its text once it is sent, and the
  periodic purge deletes those never sent once expired and the sandbox gateway's old SMS.
- No account enumeration: neither function looks at accounts before the code is proven, so
  the answer and the work done are the same for a known and an unknown number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import ratelimit
from baladiya.accounts.models import OtpCode, User
from baladiya.accounts.permissions import is_citizen_account
from baladiya.core import audit
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.ids import uuid7
from baladiya.core.money import to_latin_digits
from baladiya.core.validators import clean_mobile
from baladiya.notifications.services import OTP_DEDUPE_PREFIX, queue_sms

CODE_DIGITS = 6
FAILURE_SCOPE = "otp-fail"  # wrong codes per address
PAIR_FAILURE_SCOPE = "otp-fail-pair"  # per (address, number)
PHONE_FAILURE_SCOPE = "otp-fail-phone"  # per number, over the daily window
_CODE = re.compile(r"[0-9]{6}")
State = OtpCode.State


class OtpThrottled(DomainError):
    """Too many codes asked for, or too many wrong codes: wait, or ask for a new code."""

    status = 429
    code = "otp_throttled"


class OtpInvalid(DomainError):
    """The code is wrong, expired, already used, or was never sent (one message for all)."""

    status = 400
    code = "otp_invalid"


def _wrong_code() -> OtpInvalid:
    return OtpInvalid(_("The code is wrong or has expired. Check it, or ask for a new code."))


def normalize_phone(phone: str) -> str:
    """`0944 123 456`, `٠٩٤٤١٢٣٤٥٦`, `00963…` -> `+963944123456`; OtpInvalid if not a mobile."""
    try:
        return clean_mobile(phone)
    except ValidationError as exc:
        raise OtpInvalid(exc.messages[0], code="otp_bad_phone") from exc


def _digest(code_id: uuid.UUID, phone: str, code: str) -> str:
    message = f"otp:{code_id}:{phone}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _code_wait(limit: int, window: int, **where: str) -> int:
    """Seconds until fewer than `limit` codes matching `where` were sent within `window`."""
    if limit <= 0:
        return 0
    since = timezone.now() - dt.timedelta(seconds=window)
    times = list(
        OtpCode.objects.filter(created_at__gte=since, **where)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    return ratelimit.wait_for(times, limit, window)


def request_wait(phone: str, ip: str) -> int:
    """Seconds before this number may get another code from this address (0: now)."""
    hourly, daily = settings.OTP_RATE_WINDOW_SECONDS, settings.OTP_DAILY_WINDOW_SECONDS
    return max(
        _code_wait(settings.OTP_PHONE_LIMIT, hourly, phone=phone),
        _code_wait(settings.OTP_PHONE_DAILY_LIMIT, daily, phone=phone),
        _code_wait(settings.OTP_IP_LIMIT, hourly, ip=ip),
    )


def _pair(ip: str, number: str) -> str:
    return f"{number}|{ip}"


def phone_lock_seconds(number: str) -> int:
    """Seconds until the number (E.164) may have codes checked again (0: not locked)."""
    return ratelimit.wait_seconds(
        PHONE_FAILURE_SCOPE,
        number,
        settings.OTP_PHONE_FAILURE_LIMIT,
        settings.OTP_DAILY_WINDOW_SECONDS,
    )


def _locked(seconds: int) -> OtpThrottled:
    """The same words for every number, known or not: only the time left differs."""
    hours = max(1, math.ceil(seconds / 3600))
    return OtpThrottled(
        ngettext(
            "Too many wrong codes were entered for this number. Try again in %(hours)d hour.",
            "Too many wrong codes were entered for this number. Try again in %(hours)d hours.",
            hours,
        )
        % {"hours": hours},
        code="otp_locked",
    )


def verify_wait(number: str, ip: str) -> int:
    """Seconds before a code for this number may be checked from this address (0: now);
    the number's own lock is `phone_lock_seconds`."""
    hourly = settings.OTP_RATE_WINDOW_SECONDS
    return max(
        ratelimit.wait_seconds(FAILURE_SCOPE, ip, settings.OTP_IP_FAILURE_LIMIT, hourly),
        ratelimit.wait_seconds(
            PAIR_FAILURE_SCOPE, _pair(ip, number), settings.OTP_IP_PHONE_FAILURE_LIMIT, hourly
        ),
    )


def sms_text(code: str) -> str:
    """In Arabic (citizens' phones); the code first, so phones can offer to fill it in."""
    minutes = max(1, settings.OTP_CODE_TTL_SECONDS // 60)
    with translation.override("ar"):
        return gettext(
            "%(code)s is your Homs City Council login code. It is valid for %(minutes)d "
            "minutes. Never give it to anyone, not even council staff."
        ) % {"code": code, "minutes": minutes}


def request_code(phone: str, ip: str) -> None:
    """Send a new code to `phone` (any Syrian mobile: known or not, the answer is the same).

    Raises OtpInvalid for a malformed number, OtpThrottled over a limit (nothing sent).
    Side effects: older codes of the number superseded, an OtpCode row, an SMS in the outbox,
    audit `otp.requested`.
    """
    number = normalize_phone(phone)
    ip = (ip or "unknown")[:45]
    locked = phone_lock_seconds(number)
    if locked:
        raise _locked(locked)  # a code that could not be checked would only cost an SMS
    wait = request_wait(number, ip)
    if wait:
        raise OtpThrottled(ratelimit.minutes_message(wait))
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    with transaction.atomic():
        OtpCode.objects.filter(phone=number, state=State.ACTIVE).update(state=State.SUPERSEDED)
        otp = OtpCode(
            phone=number,
            ip=ip,
            expires_at=now + dt.timedelta(seconds=settings.OTP_CODE_TTL_SECONDS),
        )
        otp.code_hash = _digest(otp.pk, number, code)
        otp.save()
        queue_sms(number, sms_text(code), dedupe_key=f"{OTP_DEDUPE_PREFIX}{otp.pk}")
        audit.record("otp.requested", actor="anonymous", obj=otp, phone=number, ip=ip)


@dataclass
class _Outcome:
    user: User | None = None
    error: DomainError | None = None


def verify_code(phone: str, code: str, ip: str) -> User:
    """Check the code last sent to `phone`; return the citizen's account (created on the
    first success). Raises OtpInvalid (wrong, expired, used, never sent), OtpThrottled (too
    many wrong codes), NotAllowed (the number is a staff or disabled account).

    Wrong attempts are committed before raising: a failed try always counts.
    """
    number = normalize_phone(phone)
    ip = (ip or "unknown")[:45]
    guess = re.sub(r"[\s-]", "", to_latin_digits(str(code or "")))[:20]
    locked = phone_lock_seconds(number)
    if locked:
        raise _locked(locked)
    wait = verify_wait(number, ip)
    if wait:
        raise OtpThrottled(ratelimit.minutes_message(wait))
    outcome = _check(number, guess, ip)
    if outcome.error is not None:
        raise outcome.error
    assert outcome.user is not None
    return outcome.user


def _check(number: str, guess: str, ip: str) -> _Outcome:
    now = timezone.now()
    with transaction.atomic():
        otp = (
            OtpCode.objects.select_for_update()
            .filter(phone=number, state=State.ACTIVE)
            .order_by("-created_at")
            .first()
        )
        # The same HMAC work whether or not a code exists, so timing tells nothing.
        digest = _digest(otp.pk if otp is not None else uuid7(), number, guess)
        matches = hmac.compare_digest(otp.code_hash if otp is not None else "-" * 64, digest)
        if otp is None or otp.expires_at <= now:
            return _failed(otp, number, ip, "no_code" if otp is None else "expired")
        if not (_CODE.fullmatch(guess) and matches):
            return _failed(otp, number, ip, "wrong")
        otp.state = State.USED
        otp.used_at = now
        otp.save(update_fields=["state", "used_at"])
        audit.record("otp.verified", actor="anonymous", obj=otp, phone=number, ip=ip)
        return _account_for(number, ip)


def _failed(otp: OtpCode | None, number: str, ip: str, reason: str) -> _Outcome:
    ratelimit.hit(FAILURE_SCOPE, ip)
    ratelimit.hit(PAIR_FAILURE_SCOPE, _pair(ip, number))
    ratelimit.hit(PHONE_FAILURE_SCOPE, number)
    error: DomainError = _wrong_code()
    if otp is not None and reason == "wrong":
        otp.attempts += 1
        if otp.attempts >= settings.OTP_MAX_ATTEMPTS:
            otp.state = State.EXHAUSTED
            error = OtpThrottled(
                _("Too many wrong codes: this code no longer works. Ask for a new code.")
            )
        otp.save(update_fields=["attempts", "state"])
    audit.record(
        "otp.failed",
        actor="anonymous",
        obj=otp,
        phone=number,
        ip=ip,
        reason=reason,
        attempts=otp.attempts if otp is not None else 0,
    )
    return _Outcome(error=error)


def _account_for(number: str, ip: str) -> _Outcome:
    """The number's citizen account, created on its first login."""
    user = User.objects.filter(username=number).first()
    if user is None:
        try:
            with transaction.atomic():  # savepoint: an administrator may be creating it too
                user = User(username=number)
                user.set_unusable_password()
                user.save()
        except IntegrityError:
            user = User.objects.get(username=number)
        else:
            audit.record("citizen.account_created", actor=user, obj=user, phone=number, ip=ip)
            return _Outcome(user=user)
    if not user.is_active:
        audit.record("otp.refused", actor="anonymous", obj=user, phone=number, reason="disabled")
        return _Outcome(
            error=NotAllowed(
                _("This account is disabled. Visit a service center with your ID card."),
                code="otp_disabled_account",
            )
        )
    if not is_citizen_account(user):
        audit.record("otp.refused", actor="anonymous", obj=user, phone=number, reason="staff")
        return _Outcome(
            error=NotAllowed(
                _("This number belongs to a staff account: log in on the staff login page."),
                code="otp_staff_account",
            )
        )
    return _Outcome(user=user)


def purge_codes(older_than_days: int = 2) -> int:
    """Delete codes long past every window (a periodic task may call this)."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    deleted, _counts = OtpCode.objects.filter(created_at__lt=cutoff).delete()
    return deleted
