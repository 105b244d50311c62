"""Scripts run inside a node's own process by the two-node tests.

`central-issue`: on the central node, an online application (C00) to be collected at C03,
issued by the back office. `center-hand-over REF`: on the C03 node, the clerk hands it over.
Each prints one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import sys


def central_issue() -> dict[str, str]:
    from baladiya.accounts import roles
    from baladiya.accounts.models import Citizen, User
    from baladiya.applications import services as apps
    from baladiya.applications.models import Application, Channel
    from baladiya.catalog.models import Service
    from baladiya.centers.models import Center
    from baladiya.core.crashtest import field_value
    from baladiya.documents.services import issue_document

    service = Service.objects.filter(approval=Service.Approval.BACK_OFFICE).order_by("code").first()
    assert service is not None
    officer = User.objects.filter(groups__name=roles.OFFICER, agency=service.agency).first()
    officer = officer or User.objects.filter(groups__name=roles.OFFICER, agency=None).first()
    assert officer is not None
    citizen = Citizen.objects.create(
        national_number="04039999999",
        first_name="ريم",
        father_name="سليم",
        last_name="الخوري",
        mother_name="سعاد",
        birth_date=dt.date(1992, 4, 2),
        phone="+963944555666",
    )
    app = apps.submit_application(
        None,
        apps.Submission(
            service=service,
            applicant=citizen,
            center=Center.objects.get(code="C00"),
            fields={f.name: field_value(f) for f in service.fields.all()},
            channel=Channel.ONLINE,
            pickup_center=Center.objects.get(code="C03"),
        ),
    )
    # Test set-up shortcut: payment and review are covered elsewhere; here only routing and
    # the hand-over across nodes matter.
    Application.objects.filter(pk=app.pk).update(status="approved")
    app.refresh_from_db()
    doc = issue_document(app, officer)
    app.refresh_from_db()
    return {
        "reference": app.reference,
        "document": doc.number,
        "status": app.status,
        "national_number": citizen.national_number,
    }


def center_hand_over(reference: str, national_number: str) -> dict[str, str]:
    from baladiya.accounts import roles
    from baladiya.accounts.models import User
    from baladiya.applications.models import Application
    from baladiya.delivery.services import hand_over

    app = Application.objects.get(reference=reference)
    clerk = User.objects.filter(center__code="C03", groups__name=roles.CLERK).first()
    assert clerk is not None
    hand_over(app, clerk, app.applicant.full_name, "national_id", national_number)
    app.refresh_from_db()
    return {"reference": reference, "status": app.status}


if __name__ == "__main__":
    import django

    django.setup()
    if sys.argv[1] == "central-issue":
        print(json.dumps(central_issue()))
    else:
        print(json.dumps(center_hand_over(sys.argv[2], sys.argv[3])))
