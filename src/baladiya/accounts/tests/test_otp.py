"""Citizens' one-time codes: sent through the outbox, stored hashed, single use, expiring,
limited per code, per number (hourly and daily), per address and number, and per address, and
blind to whether an account exists."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from baladiya.accounts import otp, roles
from baladiya.accounts.models import Citizen, OtpCode, RateHit, User
from baladiya.accounts.permissions import citizen_of, is_citizen_account
from baladiya.core.audit import verify_chain
from baladiya.core.errors import NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
PHONE = "+963944123456"
IP = "10.1.2.3"


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.OTP_CODE_TTL_SECONDS = 300
    settings.OTP_MAX_ATTEMPTS = 5
    settings.OTP_RATE_WINDOW_SECONDS = 3600
    settings.OTP_PHONE_LIMIT = 3
    settings.OTP_IP_LIMIT = 6
    settings.OTP_IP_FAILURE_LIMIT = 12
    settings.OTP_IP_PHONE_FAILURE_LIMIT = 8
    settings.OTP_DAILY_WINDOW_SECONDS = 24 * 3600
    settings.OTP_PHONE_DAILY_LIMIT = 10
    settings.OTP_PHONE_FAILURE_LIMIT = 15


def sent_code(phone: str = PHONE) -> str:
    """The code in the last SMS queued for `phone` (what the citizen reads)."""
    message = OutboxMessage.objects.filter(recipient=phone).order_by("-created_at").first()
    assert message is not None, "no SMS queued"
    match = re.search(r"(?<![0-9])([0-9]{6})(?![0-9])", message.body)
    assert match, message.body
    return match.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_request_queues_an_sms_and_stores_only_a_keyed_hash() -> None:
    otp.request_code("0944 123 456", IP)
    code = sent_code()
    row = OtpCode.objects.get()
    assert row.phone == PHONE and row.ip == IP and row.state == OtpCode.State.ACTIVE
    assert code not in row.code_hash and len(row.code_hash) == 64
    lifetime = row.expires_at - row.created_at
    assert abs(lifetime - dt.timedelta(seconds=300)) < dt.timedelta(seconds=1)
    message = OutboxMessage.objects.get()
    assert message.kind == "sms" and message.dedupe_key == f"otp:{row.pk}"
    assert AuditEvent.objects.filter(action="otp.requested").count() == 1
    assert code not in str(AuditEvent.objects.get(action="otp.requested").data)


@pytest.mark.parametrize(
    "typed",
    [
        "+963944123456",
        "0944 123 456",
        "0944-123-456",
        "00963944123456",
        "٠٩٤٤١٢٣٤٥٦",
        "963944123456",
    ],
)
def test_local_and_arabic_forms_are_normalized_to_e164(typed: str) -> None:
    otp.request_code(typed, IP)
    assert OtpCode.objects.get().phone == PHONE
    assert otp.verify_code(typed, sent_code(), IP).username == PHONE


@pytest.mark.parametrize("typed", ["", "0944", "+963 11 222 3333", "0044 20 7946 0000", "abc"])
def test_a_non_syrian_mobile_is_refused_and_nothing_is_sent(typed: str) -> None:
    with pytest.raises(otp.OtpInvalid) as info:
        otp.request_code(typed, IP)
    assert "Syrian mobile" in str(info.value.message)
    assert not OtpCode.objects.exists() and not OutboxMessage.objects.exists()


def test_first_success_creates_a_citizen_account_without_password_or_role() -> None:
    otp.request_code(PHONE, IP)
    user = otp.verify_code(PHONE, sent_code(), IP)
    assert user.username == PHONE
    assert not user.has_usable_password() and not user.role_codes()
    assert not user.is_staff and not user.is_superuser
    assert is_citizen_account(user) and citizen_of(user) is None  # profile still to complete
    assert OtpCode.objects.get().state == OtpCode.State.USED
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"otp.requested", "otp.verified", "citizen.account_created"} <= actions
    # Next login: the same account, not a second one.
    otp.request_code(PHONE, IP)
    assert otp.verify_code(PHONE, sent_code(), IP).pk == user.pk
    assert User.objects.count() == 1
    assert not verify_chain()


def test_arabic_indic_digits_in_the_code_are_accepted() -> None:
    otp.request_code(PHONE, IP)
    code = sent_code().translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert otp.verify_code(PHONE, code, IP).username == PHONE


def test_a_used_code_cannot_be_replayed() -> None:
    otp.request_code(PHONE, IP)
    code = sent_code()
    otp.verify_code(PHONE, code, IP)
    with pytest.raises(otp.OtpInvalid):
        otp.verify_code(PHONE, code, IP)
    with pytest.raises(otp.OtpInvalid):
        otp.verify_code(PHONE, code, "10.9.9.9")


def test_an_expired_code_is_refused() -> None:
    otp.request_code(PHONE, IP)
    code = sent_code()
    OtpCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(otp.OtpInvalid) as info:
        otp.verify_code(PHONE, code, IP)
    assert "expired" in str(info.value.message)
    assert not User.objects.exists()


def test_a_new_code_replaces_the_older_one() -> None:
    otp.request_code(PHONE, IP)
    first = sent_code()
    otp.request_code(PHONE, IP)
    second = sent_code()
    if first != second:
        with pytest.raises(otp.OtpInvalid):
            otp.verify_code(PHONE, first, IP)
    assert otp.verify_code(PHONE, second, IP).username == PHONE
    assert OtpCode.objects.filter(state=OtpCode.State.SUPERSEDED).count() == 1


def test_brute_force_kills_the_code_after_max_attempts_and_every_try_counts() -> None:
    otp.request_code(PHONE, IP)
    code = sent_code()
    for attempt in range(1, 5):
        with pytest.raises(otp.OtpInvalid):
            otp.verify_code(PHONE, wrong(code), IP)
        assert OtpCode.objects.get().attempts == attempt  # committed although it raised
    with pytest.raises(otp.OtpThrottled) as info:
        otp.verify_code(PHONE, "12", IP)  # malformed guesses count too
    assert info.value.status == 429
    row = OtpCode.objects.get()
    assert row.attempts == 5 and row.state == OtpCode.State.EXHAUSTED
    with pytest.raises(otp.OtpInvalid):
        otp.verify_code(PHONE, code, IP)  # even the right code is dead now
    assert not User.objects.exists()
    assert AuditEvent.objects.filter(action="otp.failed").count() == 6


def test_requests_are_limited_per_number_whatever_the_address() -> None:
    for i in range(3):
        otp.request_code(PHONE, f"10.0.0.{i}")
    with pytest.raises(otp.OtpThrottled) as info:
        otp.request_code(PHONE, "10.0.0.99")
    assert "Try again in" in str(info.value.message)
    assert OutboxMessage.objects.count() == 3 and OtpCode.objects.count() == 3
    # Another number is not affected; once the window has passed the number may ask again.
    otp.request_code("+963955000111", "10.0.0.99")
    OtpCode.objects.filter(phone=PHONE).update(created_at=timezone.now() - dt.timedelta(hours=2))
    otp.request_code(PHONE, "10.0.0.99")


def test_requests_are_limited_per_address_whatever_the_number() -> None:
    for i in range(6):
        otp.request_code(f"+9639440000{i:02d}", IP)
    with pytest.raises(otp.OtpThrottled):
        otp.request_code("+963944000099", IP)
    assert OtpCode.objects.count() == 6
    otp.request_code("+963944000099", "10.7.7.7")  # another address is fine


def test_wrong_codes_are_limited_per_address_across_numbers(settings: Any) -> None:
    """Spraying guesses over many numbers (each within its own attempt limit) is stopped."""
    settings.OTP_IP_LIMIT = 100
    phones = [f"+9639440001{i:02d}" for i in range(4)]
    for phone in phones:
        otp.request_code(phone, IP)
    for phone in phones:
        for _ in range(3):
            with pytest.raises(otp.OtpInvalid):
                otp.verify_code(phone, wrong(sent_code(phone)), IP)
    assert RateHit.objects.filter(scope="otp-fail", key=IP).count() == 12
    with pytest.raises(otp.OtpThrottled):
        otp.verify_code(phones[0], sent_code(phones[0]), IP)  # even the right code
    assert otp.verify_code(phones[0], sent_code(phones[0]), "10.8.8.8").username == phones[0]


def test_unknown_and_known_numbers_get_the_same_treatment(citizen: Citizen) -> None:
    """No enumeration: a registered citizen's number and a fresh one are handled alike."""
    known = User(username=citizen.phone, citizen=citizen)
    known.set_unusable_password()
    known.save()
    unknown = "+963933777888"
    for phone in (citizen.phone, unknown):
        assert otp.request_code(phone, IP) is None
    assert OtpCode.objects.filter(phone=citizen.phone).count() == 1
    assert OtpCode.objects.filter(phone=unknown).count() == 1
    bodies = [
        re.sub(r"[0-9]{6}", "######", m.body) for m in OutboxMessage.objects.order_by("created_at")
    ]
    assert bodies[0] == bodies[1]
    errors = []
    for phone in (citizen.phone, unknown):
        with pytest.raises(otp.OtpInvalid) as info:
            otp.verify_code(phone, wrong(sent_code(phone)), IP)
        errors.append((info.value.status, info.value.code, str(info.value.message)))
    assert errors[0] == errors[1]
    # Never sent a code: the same answer again.
    with pytest.raises(otp.OtpInvalid) as info:
        otp.verify_code("+963988000000", "123456", IP)
    assert (info.value.status, info.value.code, str(info.value.message)) == errors[0]


def test_a_staff_account_cannot_be_opened_with_a_code(make_user: Any) -> None:
    make_user(PHONE, roles.CLERK)  # a (badly named) staff account
    otp.request_code(PHONE, IP)
    with pytest.raises(NotAllowed):
        otp.verify_code(PHONE, sent_code(), IP)
    assert AuditEvent.objects.filter(action="otp.refused").exists()


def test_a_disabled_citizen_account_cannot_log_in() -> None:
    user = User(username=PHONE, is_active=False)
    user.set_unusable_password()
    user.save()
    otp.request_code(PHONE, IP)
    with pytest.raises(NotAllowed) as info:
        otp.verify_code(PHONE, sent_code(), IP)
    assert "disabled" in str(info.value.message)


def test_sms_text_tells_the_code_and_its_lifetime() -> None:
    text = otp.sms_text("123456")
    assert "123456" in text and "5" in text


def _age(days: float = 0, hours: float = 0) -> None:
    """Everything counted so far happened that long ago."""
    delta = dt.timedelta(days=days, hours=hours)
    OtpCode.objects.update(created_at=timezone.now() - delta)
    RateHit.objects.update(at=timezone.now() - delta)


def test_codes_sent_to_one_number_are_capped_per_day() -> None:
    """5 an hour (here 3) would be 120 a day: the daily cap (10) holds whatever the hour."""
    for batch in (3, 3, 3, 1):
        for i in range(batch):
            otp.request_code(PHONE, f"10.0.{batch}.{i}")
        _age(hours=2)
    with pytest.raises(otp.OtpThrottled) as info:
        otp.request_code(PHONE, "10.5.5.5")
    assert "Try again in 22 hours" in str(info.value.message)
    assert OtpCode.objects.filter(phone=PHONE).count() == 10
    otp.request_code("+963955000111", "10.5.5.5")  # another number is not affected
    _age(days=1)
    otp.request_code(PHONE, "10.5.5.5")


def _fail(phone: str, times: int, ips: list[str]) -> None:
    """`times` wrong codes for `phone`, each from the next address, asking for a new code
    whenever the current one has died."""
    for n in range(times):
        row = OtpCode.objects.filter(phone=phone, state=OtpCode.State.ACTIVE).first()
        if row is None:
            otp.request_code(phone, ips[n % len(ips)])
        with pytest.raises((otp.OtpInvalid, otp.OtpThrottled)):
            otp.verify_code(phone, wrong(sent_code(phone)), ips[n % len(ips)])


def test_wrong_codes_for_one_number_lock_it_for_the_day_from_every_address(
    settings: Any,
) -> None:
    """5 codes x 5 tries an hour from rotating addresses would be 600 guesses a day: after 15
    wrong codes the number is locked, whatever the address, until the day has passed."""
    settings.OTP_PHONE_LIMIT = 50
    settings.OTP_PHONE_DAILY_LIMIT = 50
    ips = [f"10.20.0.{i}" for i in range(15)]
    _fail(PHONE, 15, ips)
    assert RateHit.objects.filter(scope="otp-fail-phone", key=PHONE).count() == 15
    with pytest.raises(otp.OtpThrottled) as info:
        otp.verify_code(PHONE, sent_code(), "10.99.0.1")  # even the right code, anywhere
    assert info.value.code == "otp_locked" and info.value.status == 429
    assert "Too many wrong codes were entered for this number. Try again in 24 hours" in str(
        info.value.message
    )
    with pytest.raises(otp.OtpThrottled) as info:
        otp.request_code(PHONE, "10.99.0.1")  # and no code is sent that could not be checked
    assert info.value.code == "otp_locked"
    assert RateHit.objects.filter(scope="otp-fail-phone").count() == 15  # refusals add nothing
    assert not User.objects.exists()
    # Another number is not affected; once the day has passed the number works again.
    otp.request_code("+963955000111", "10.99.0.1")
    assert otp.verify_code("+963955000111", sent_code("+963955000111"), "10.99.0.1")
    _age(days=1, hours=1)
    otp.request_code(PHONE, "10.99.0.1")
    assert otp.verify_code(PHONE, sent_code(), "10.99.0.1").username == PHONE


def test_the_lock_reads_the_same_for_a_known_and_an_unknown_number(
    citizen: Citizen, settings: Any
) -> None:
    settings.OTP_PHONE_LIMIT = 50
    known = User(username=citizen.phone, citizen=citizen)
    known.set_unusable_password()
    known.save()
    unknown = "+963933777888"
    answers = []
    for phone in (citizen.phone, unknown):
        _fail(phone, 15, [f"10.30.0.{i}" for i in range(15)])
        with pytest.raises(otp.OtpThrottled) as info:
            otp.verify_code(phone, "123456", "10.31.0.1")
        answers.append((info.value.status, info.value.code, str(info.value.message)))
    assert answers[0] == answers[1]


def test_one_address_shared_by_many_citizens_is_not_locked_by_one_of_them(
    settings: Any,
) -> None:
    """A carrier's NAT: wrong codes count per (address, number); the address alone only has a
    high flood ceiling. One citizen's mistakes do not lock out their neighbours."""
    nat = "100.64.0.1"
    settings.OTP_IP_PHONE_FAILURE_LIMIT = 4
    settings.OTP_IP_FAILURE_LIMIT = 200
    settings.OTP_IP_LIMIT = 100
    otp.request_code(PHONE, nat)
    for _ in range(4):
        with pytest.raises(otp.OtpInvalid):
            otp.verify_code(PHONE, wrong(sent_code()), nat)
    with pytest.raises(otp.OtpThrottled) as info:
        otp.verify_code(PHONE, sent_code(), nat)  # this number, from this address: wait
    assert "Try again in" in str(info.value.message)
    neighbours = [f"+9639551234{i:02d}" for i in range(10)]
    for phone in neighbours:
        otp.request_code(phone, nat)
        assert otp.verify_code(phone, sent_code(phone), nat).username == phone
    # The same citizen from another address (mobile data, then home Wi-Fi) may go on.
    assert otp.verify_code(PHONE, sent_code(), "10.40.0.1").username == PHONE
