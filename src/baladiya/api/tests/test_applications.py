"""POST /applications and GET /applications/{reference}: contract shapes, who may submit and
see what (another center's or another citizen's application is 404), validation details."""

from __future__ import annotations

import base64
from collections.abc import Callable

from baladiya.accounts.models import Citizen, User
from baladiya.api.tests.conftest import ApiClient, pickup_body
from baladiya.applications.models import Application, Channel
from baladiya.catalog.models import RequiredAttachment, Service
from baladiya.centers.models import Center

Api = Callable[..., ApiClient]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_clerk_submits_at_their_center(
    api: Api, clerk: User, service: Service, citizen: Citizen
) -> None:
    answer = api(clerk).post("/api/v1/applications", pickup_body())
    assert answer.status == 201, answer.body
    body = answer.body
    assert body["reference"].startswith("C03-") and body["status"] == "submitted"
    assert body["amount_due"] == {"amount": 5000, "currency": "SYP"}
    assert body["channel"] == "counter" and body["center"] == "C03"
    assert body["delivery"] == {"mode": "pickup", "center": "C03", "address": None}
    app = Application.objects.get(reference=body["reference"])
    assert app.applicant == citizen and app.channel == Channel.COUNTER
    assert app.field_values == {"purpose": "مصرف"}


def test_clerk_registers_a_new_applicant_by_name(api: Api, clerk: User, service: Service) -> None:
    body = pickup_body()
    body["applicant"] = {
        "national_number": "٠٤٠١٥٥٥٥٥٥٥",
        "name": "سارة خالد عبد الله النجار",
        "phone": "0955 111 222",
    }
    answer = api(clerk).post("/api/v1/applications", body)
    assert answer.status == 201, answer.body
    person = Citizen.objects.get(national_number="04015555555")
    assert (person.first_name, person.father_name, person.last_name) == (
        "سارة",
        "خالد عبد الله",
        "النجار",
    )
    assert person.phone == "+963955111222"


def test_citizen_submits_online_at_c00_for_post(
    api: Api, citizen_user: User, service: Service, electronic_center: Center, center: Center
) -> None:
    body = {
        "service": service.code,
        "fields": {"purpose": "سفارة"},
        "delivery": {
            "mode": "post",
            "address": {
                "line": "شارع الحضارة، بناء 4",
                "neighbourhood": "الإنشاءات",
                "phone": "0944123456",
            },
        },
    }
    answer = api(citizen_user).post("/api/v1/applications", body)
    assert answer.status == 201, answer.body
    assert answer.body["reference"].startswith("C00-")
    assert answer.body["channel"] == "online" and answer.body["center"] == "C00"
    assert answer.body["delivery"]["address"]["phone"] == "+963944123456"
    app = Application.objects.get(reference=answer.body["reference"])
    assert app.applicant == citizen_user.citizen and app.channel == Channel.ONLINE


def test_citizen_cannot_apply_for_someone_else(
    api: Api, citizen_user: User, service: Service, electronic_center: Center, center: Center
) -> None:
    body = pickup_body()
    body["applicant"]["national_number"] = "04099999999"
    answer = api(citizen_user).post("/api/v1/applications", body)
    assert answer.status == 403 and answer.body["code"] == "not_your_record"
    assert not Application.objects.exists()


def test_citizen_without_profile_completes_it_by_applying(
    api: Api, service: Service, electronic_center: Center, center: Center
) -> None:
    from baladiya.api.tests.conftest import make_citizen_account

    user = make_citizen_account("+963944777888", None)
    body = pickup_body()
    body["applicant"] = {"national_number": "04017777777", "name": "رامي فادي الشامي"}
    answer = api(user).post("/api/v1/applications", body)
    assert answer.status == 201, answer.body
    user.refresh_from_db()
    assert user.citizen is not None and user.citizen.national_number == "04017777777"
    assert Application.objects.get().applicant == user.citizen


def test_validation_errors_name_every_field(api: Api, clerk: User, service: Service) -> None:
    body = pickup_body()
    body["fields"] = {"purpose": "", "colour": "red"}
    body["delivery"] = {"mode": "pickup", "center": "C99"}
    body["applicant"] = {"national_number": "123", "name": "x"}
    answer = api(clerk).post("/api/v1/applications", body)
    assert answer.status == 422 and answer.body["code"] == "validation_error"
    fields = answer.body["fields"]
    assert "fields.purpose" in fields and "fields" in fields  # unknown field named
    assert "delivery.center" in fields and "applicant.national_number" in fields
    assert not Application.objects.exists()


def test_schema_errors_are_422_json_with_locations(api: Api, clerk: User, service: Service) -> None:
    answer = api(clerk).post("/api/v1/applications", {"service": 5, "delivery": {"mode": "fly"}})
    assert answer.status == 422 and answer.body["code"] == "validation_error"
    assert "service" in answer.body["fields"]
    assert any(key.startswith("delivery") for key in answer.body["fields"])


def test_unknown_service_and_disallowed_delivery(
    api: Api, clerk: User, service: Service, back_office_service: Service
) -> None:
    answer = api(clerk).post("/api/v1/applications", pickup_body("nope"))
    assert answer.status == 422 and "service" in answer.body["fields"]
    post = pickup_body(back_office_service.code, fields={})
    post["delivery"] = {"mode": "post", "address": {"line": "x"}}
    answer = api(clerk).post("/api/v1/applications", post)
    assert answer.status == 422 and "delivery.mode" in answer.body["fields"]


def test_required_attachment_as_file_field(api: Api, clerk: User, service: Service) -> None:
    RequiredAttachment.objects.create(
        service=service, code="id-card", label_ar="الهوية", label_en="ID card"
    )
    missing = api(clerk).post("/api/v1/applications", pickup_body())
    assert missing.status == 422 and "fields.id-card" in missing.body["fields"]
    not_pdf = pickup_body()
    not_pdf["fields"]["id-card"] = {
        "filename": "id.txt",
        "content_base64": base64.b64encode(b"hello").decode(),
    }
    answer = api(clerk).post("/api/v1/applications", not_pdf)
    assert answer.status == 422 and "fields.id-card" in answer.body["fields"]
    good = pickup_body()
    good["fields"]["id-card"] = {
        "filename": "id.pdf",
        "content_base64": base64.b64encode(PDF).decode(),
    }
    answer = api(clerk).post("/api/v1/applications", good)
    assert answer.status == 201, answer.body
    att = Application.objects.get().attachments.get()
    assert att.code == "id-card" and att.content_type == "application/pdf"


def test_wrong_roles_cannot_submit(
    api: Api, cashier: User, officer: User, citizen: Citizen, service: Service
) -> None:
    for user in (cashier, officer):
        answer = api(user).post("/api/v1/applications", pickup_body())
        assert answer.status == 403 and answer.body["code"] == "forbidden"
    assert api().post("/api/v1/applications", pickup_body()).status == 401
    assert not Application.objects.exists()


def test_status_and_history_contract(
    api: Api, clerk: User, cashier: User, citizen: Citizen, service: Service
) -> None:
    reference = api(clerk).post("/api/v1/applications", pickup_body()).body["reference"]
    answer = api(clerk).get(f"/api/v1/applications/{reference}")
    assert answer.status == 200
    body = answer.body
    assert body["reference"] == reference and body["status"] == "submitted"
    assert body["service"]["code"] == service.code
    assert body["fee"] == body["amount_due"] == {"amount": 5000, "currency": "SYP"}
    assert [(h["action"], h["to_status"]) for h in body["history"]] == [("submit", "submitted")]
    assert body["receipts"] == [] and body["document"] is None
    assert api(cashier).get(f"/api/v1/applications/{reference}").status == 200


def test_other_center_and_unknown_reference_look_the_same(
    api: Api, clerk: User, other_clerk: User, citizen: Citizen, service: Service
) -> None:
    reference = api(clerk).post("/api/v1/applications", pickup_body()).body["reference"]
    hidden = api(other_clerk).get(f"/api/v1/applications/{reference}")
    unknown = api(other_clerk).get("/api/v1/applications/C03-26-999999")
    assert hidden.status == unknown.status == 404
    assert hidden.body == unknown.body
    assert hidden.body["code"] == "not_found"


def test_citizen_sees_only_their_own_application(
    api: Api,
    clerk: User,
    citizen_user: User,
    other_citizen_user: User,
    service: Service,
) -> None:
    reference = api(clerk).post("/api/v1/applications", pickup_body()).body["reference"]
    assert api(citizen_user).get(f"/api/v1/applications/{reference}").status == 200
    other = api(other_citizen_user).get(f"/api/v1/applications/{reference}")
    assert other.status == 404 and other.body["code"] == "not_found"
    paying = api(other_citizen_user).post(f"/api/v1/applications/{reference}/payments", {})
    assert paying.status == 404


def test_citizen_history_hides_staff_names_and_internal_notes(
    api: Api, clerk: User, supervisor: User, citizen_user: User, service: Service
) -> None:
    from baladiya.applications import services as apps

    reference = api(clerk).post("/api/v1/applications", pickup_body()).body["reference"]
    app = Application.objects.get(reference=reference)
    apps.cancel(app, clerk, "طلب المواطن الإلغاء")
    staff_view = api(clerk).get(f"/api/v1/applications/{reference}").body["history"]
    assert staff_view[0]["by"] == clerk.display_name()
    mine = api(citizen_user).get(f"/api/v1/applications/{reference}").body["history"]
    assert {h["by"] for h in mine} == {""}
    assert mine[-1]["note"] == "طلب المواطن الإلغاء"  # a note meant for the citizen stays


def test_refused_application_does_not_complete_the_profile(
    api: Api, service: Service, electronic_center: Center, center: Center
) -> None:
    from baladiya.api.tests.conftest import make_citizen_account

    user = make_citizen_account("+963944777889", None)
    body = pickup_body()
    body["applicant"] = {"national_number": "04017777778", "name": "رامي فادي الشامي"}
    body["fields"] = {"purpose": ""}  # invalid: the whole request is refused
    answer = api(user).post("/api/v1/applications", body)
    assert answer.status == 422
    user.refresh_from_db()
    assert user.citizen is None
    assert not Citizen.objects.filter(national_number="04017777778").exists()


def test_absurdly_nested_json_with_an_idempotency_key_is_a_clean_4xx(
    api: Api, clerk: User, service: Service
) -> None:
    client = api(clerk)
    deep = "[" * 50_000 + "]" * 50_000
    response = client.client.post(
        "/api/v1/applications",
        deep,
        content_type="application/json",
        headers=client._headers({"Idempotency-Key": "deep-1"}),
    )
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    assert not Application.objects.exists()
