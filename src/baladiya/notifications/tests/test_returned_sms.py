"""The SMS sent when an application is returned for correction: in Arabic, what to correct
(the reviewer's note, shortened) and where (the electronic center's address for an online
application, the center for a counter one), in at most two SMS parts."""

from __future__ import annotations

from typing import Any

import pytest

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as apps
from baladiya.applications.models import Application, Channel
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.notifications.models import OutboxMessage
from baladiya.notifications.services import RETURNED_SMS_CHARS, shorten, sms_length

pytestmark = pytest.mark.django_db
LONG_NOTE = (
    "صورة الهوية غير واضحة والرقم الوطني للزوج لا يطابق السجل المدني، "
    "يرجى إرفاق صورة ملونة واضحة للوجهين وكتابة الرقم الوطني كما هو في البطاقة تماماً"
)


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://baladiya.homs.gov.sy"


def _returned(
    actor: User, service: Service, citizen: Citizen, center: Center, channel: str, note: str
) -> Application:
    app = apps.submit_application(
        actor if channel == Channel.COUNTER else None,
        apps.Submission(
            service=service,
            applicant=citizen,
            center=center,
            fields={"purpose": "مصرف"},
            pickup_center=Center.objects.get(code="C03"),
            channel=channel,
        ),
    )
    apps.move(app, "pay", None, check_permission=False)
    apps.move(app, "start_review", None, check_permission=False)
    apps.return_for_correction(app, actor, note)
    return app


def _sms(app: Application) -> str:
    message = (
        OutboxMessage.objects.filter(recipient=app.applicant.phone).order_by("created_at").last()
    )
    assert message is not None
    return message.body


def test_online_application_is_told_what_to_correct_and_the_portal_address(
    officer: User, service: Service, citizen: Citizen, center: Center
) -> None:
    electronic = Center.objects.create(
        code="C00", name_ar="المركز الإلكتروني", name_en="Electronic center", kind="electronic"
    )
    app = _returned(officer, service, citizen, electronic, Channel.ONLINE, "أرفق صورة الهوية")
    text = _sms(app)
    assert text.startswith("مجلس مدينة حمص")
    assert app.reference in text
    assert "أعيد" in text and "للتصحيح" in text
    assert "https://baladiya.homs.gov.sy/e/" in text
    assert "أرفق صورة الهوية" in text and "…" not in text
    assert sms_length(text) <= RETURNED_SMS_CHARS


def test_counter_application_is_sent_to_its_center_and_a_long_note_is_shortened(
    clerk: User, service: Service, citizen: Citizen, center: Center
) -> None:
    app = _returned(clerk, service, citizen, center, Channel.COUNTER, LONG_NOTE)
    text = _sms(app)
    assert "مركز الإنشاءات" in text and "http" not in text
    assert text.endswith("…")
    assert LONG_NOTE[:20] in text
    assert sms_length(text) <= RETURNED_SMS_CHARS
    # The history keeps the whole note: only the SMS is short.
    assert app.events.get(action="return").note == LONG_NOTE


def test_other_statuses_keep_the_short_message(
    clerk: User, service: Service, citizen: Citizen, center: Center
) -> None:
    app = _returned(clerk, service, citizen, center, Channel.COUNTER, "x")
    first = OutboxMessage.objects.order_by("created_at").first()
    assert first is not None and "أصبحت حالة طلبكم" in first.body
    assert app.reference in first.body


def test_shorten_cuts_at_a_word_and_counts_ucs2() -> None:
    assert shorten("  سطر\nثانٍ  ", 50) == "سطر ثانٍ"
    cut = shorten(LONG_NOTE, 40)
    assert sms_length(cut) <= 40 and cut.endswith("…")
    assert LONG_NOTE.startswith(cut[:-1])
    assert sms_length("😀") == 2
