"""The Homs reference network: centers, neighbourhoods, agencies, services, fees and roles.

Facts from DESIGN §7 (public sources, 2024): nine neighbourhood centers (six on solar power;
center 2 serves al-Arman, al-Zahraa and al-Muhajirin on 10 kW of solar), two institutional
centers (Al-Baath University, Homs Refinery) and the electronic center C00. Which other
neighbourhoods each center serves, the other solar capacities and the fee amounts are plausible
placeholders, kept as ordinary reference data an administrator edits in the admin.

`seed_homs()` only ever *adds* what is missing (matched by code / name / username) and never
overwrites a record: running it twice changes nothing, and an administrator's later edits
survive a re-run. With `demo=True` it also creates demo staff (strong random passwords,
returned once in the result, a finance officer among them), a few demo citizens, and portal
accounts for some of them (they log in with an SMS code, shown on the sandbox SMS page).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TextIO

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.catalog.models import (
    Agency,
    DeliveryMode,
    Fee,
    FieldType,
    RequiredAttachment,
    Service,
    ServiceField,
)
from baladiya.centers.models import Center, Neighbourhood
from baladiya.core import audit
from baladiya.core.money import from_old_pounds
from baladiya.water.meters import CATEGORY_BY_LABEL
from baladiya.water.seed import seed_tariffs

FEES_FROM = dt.date(2026, 1, 1)  # the new pound: published old-pound fees converted from here
DOCUMENT_TEMPLATE = "certificate.typ"
WEEKDAY_HOURS = "الأحد–الخميس 08:00–14:00"

# ---------------------------------------------------------------- neighbourhoods

NEIGHBOURHOODS: list[tuple[str, str]] = [
    ("الوعر", "al-Waer"),
    ("بابا عمرو", "Baba Amr"),
    ("السلطانية", "al-Sultaniya"),
    ("الإنشاءات", "al-Inshaat"),
    ("جوبر", "Jobar"),
    ("الأرمن", "al-Arman"),
    ("الزهراء", "al-Zahraa"),
    ("المهاجرين", "al-Muhajirin"),
    ("عشيرة", "Ashira"),
    ("العباسية", "al-Abbasiya"),
    ("السبيل", "al-Sabil"),
    ("عكرمة الجديدة", "Ikrima al-Jadida"),
    ("العدوية", "al-Adawiya"),
    ("النزهة", "al-Nuzha"),
    ("القصور", "al-Qusour"),
    ("القرابيص", "al-Qarabis"),
    ("جورة الشياح", "Jourat al-Shiyah"),
    ("وادي السايح", "Wadi al-Sayeh"),
    ("بستان الديوان", "Bustan al-Diwan"),
    ("الحميدية", "al-Hamidiya"),
    ("باب تدمر", "Bab Tadmur"),
    ("باب السباع", "Bab al-Sibaa"),
    ("باب هود", "Bab Hud"),
    ("باب الدريب", "Bab al-Dreib"),
    ("الخالدية", "al-Khalidiya"),
    ("دير بعلبة", "Deir Baalba"),
    ("البياضة", "al-Bayada"),
    ("وادي الذهب", "Wadi al-Dhahab"),
    ("ضاحية الوليد", "Dahiyat al-Walid"),
    ("الورود", "al-Wurud"),
    ("الشماس", "al-Shammas"),
]

# ---------------------------------------------------------------- centers


@dataclass(frozen=True)
class CenterSpec:
    code: str
    name_ar: str
    name_en: str
    kind: str
    solar_kw: str | None = None  # None: on the grid
    neighbourhoods: tuple[str, ...] = ()
    address: str = ""
    hours: str = WEEKDAY_HOURS
    accepts_pickup: bool = True


LOCAL, INST, ONLINE = Center.Kind.NEIGHBOURHOOD, Center.Kind.INSTITUTIONAL, Center.Kind.ELECTRONIC
CENTERS: list[CenterSpec] = [
    CenterSpec(
        "C00",
        "المركز الإلكتروني",
        "Electronic center",
        ONLINE,
        address="مجلس مدينة حمص — البوابة الإلكترونية",
        hours="على مدار الساعة عبر الإنترنت",
        accepts_pickup=False,
    ),
    CenterSpec(
        "C01",
        "مركز خدمة المواطن في الحميدية",
        "al-Hamidiya citizen service center",
        LOCAL,
        "5.0",
        ("الحميدية", "باب تدمر", "باب السباع", "باب الدريب"),
        "حي الحميدية",
    ),
    CenterSpec(
        "C02",
        "مركز خدمة المواطن في الزهراء",
        "al-Zahraa citizen service center",
        LOCAL,
        "10.0",
        ("الأرمن", "الزهراء", "المهاجرين"),
        "حي الزهراء",
    ),
    CenterSpec(
        "C03",
        "مركز خدمة المواطن في الإنشاءات",
        "al-Inshaat citizen service center",
        LOCAL,
        "7.5",
        ("الإنشاءات", "بابا عمرو"),
        "حي الإنشاءات",
    ),
    CenterSpec(
        "C04",
        "مركز خدمة المواطن في الوعر",
        "al-Waer citizen service center",
        LOCAL,
        "10.0",
        ("الوعر",),
        "حي الوعر",
    ),
    CenterSpec(
        "C05",
        "مركز خدمة المواطن في عكرمة",
        "Ikrima citizen service center",
        LOCAL,
        "5.0",
        ("عكرمة الجديدة", "النزهة", "وادي الذهب"),
        "حي عكرمة الجديدة",
    ),
    CenterSpec(
        "C06",
        "مركز خدمة المواطن في الخالدية",
        "al-Khalidiya citizen service center",
        LOCAL,
        None,
        ("الخالدية", "البياضة"),
        "حي الخالدية",
    ),
    CenterSpec(
        "C07",
        "مركز خدمة المواطن في القصور",
        "al-Qusour citizen service center",
        LOCAL,
        "7.5",
        ("القصور", "القرابيص", "جورة الشياح"),
        "حي القصور",
    ),
    CenterSpec(
        "C08",
        "مركز خدمة المواطن في عشيرة",
        "Ashira citizen service center",
        LOCAL,
        None,
        ("عشيرة", "العباسية", "العدوية", "السبيل"),
        "حي عشيرة",
    ),
    CenterSpec(
        "C09",
        "مركز خدمة المواطن في وادي السايح",
        "Wadi al-Sayeh citizen service center",
        LOCAL,
        None,
        ("وادي السايح", "بستان الديوان", "باب هود"),
        "حي وادي السايح",
    ),
    CenterSpec(
        "C10",
        "مركز خدمة المواطن في جامعة البعث",
        "Al-Baath University citizen service center",
        INST,
        address="جامعة البعث — المبنى الإداري",
        hours="الأحد–الخميس 09:00–13:00",
    ),
    CenterSpec(
        "C11",
        "مركز خدمة المواطن في مصفاة حمص",
        "Homs Refinery citizen service center",
        INST,
        address="مصفاة حمص — مبنى الإدارة",
        hours="الأحد–الخميس 08:00–13:00",
    ),
]

# ---------------------------------------------------------------- agencies

AGENCIES: list[tuple[str, str, str]] = [
    ("civil", "مديرية الشؤون المدنية (وزارة الداخلية)", "Civil Affairs (Ministry of Interior)"),
    ("justice", "وزارة العدل — السجل العدلي", "Ministry of Justice — Criminal Records"),
    ("cadastral", "مديرية المصالح العقارية بحمص", "Homs Directorate of Cadastral Affairs"),
    ("finance", "مديرية مالية حمص", "Homs Finance Directorate"),
    ("banks", "المصارف العامة", "Public banks"),
    (
        "labour",
        "مديرية الشؤون الاجتماعية والعمل بحمص",
        "Homs Directorate of Social Affairs and Labour",
    ),
    (
        "water",
        "المؤسسة العامة لمياه الشرب والصرف الصحي بحمص",
        "Homs Water and Sewerage Establishment",
    ),
    (
        "council-technical",
        "مجلس مدينة حمص — مديرية الشؤون الفنية",
        "Homs City Council — Technical Affairs",
    ),
    (
        "council-licensing",
        "مجلس مدينة حمص — مديرية التراخيص",
        "Homs City Council — Licensing",
    ),
    (
        "council-revenue",
        "مجلس مدينة حمص — مديرية الشؤون المالية",
        "Homs City Council — Financial Affairs",
    ),
    (
        "council-properties",
        "مجلس مدينة حمص — مديرية الأملاك",
        "Homs City Council — Council Properties",
    ),
]

# ---------------------------------------------------------------- services


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label_ar: str
    label_en: str
    type: str
    required: bool = True
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttachmentSpec:
    code: str
    label_ar: str
    label_en: str
    required: bool = True


@dataclass(frozen=True)
class FeeSpec:
    label_ar: str
    label_en: str
    old_pounds: int  # as published, before the 2026 redenomination


@dataclass(frozen=True)
class ServiceSpec:
    code: str
    agency: str
    name_ar: str
    name_en: str
    title_ar: str
    title_en: str
    approval: str
    sla_days: int
    modes: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    fees: tuple[FeeSpec, ...]
    attachments: tuple[AttachmentSpec, ...] = ()
    validity_days: int = 90
    description_ar: str = ""
    description_en: str = ""


FT = FieldType
COUNTER, BACK_OFFICE = Service.Approval.COUNTER, Service.Approval.BACK_OFFICE
BOTH = (DeliveryMode.PICKUP.value, DeliveryMode.POST.value)
PICKUP = (DeliveryMode.PICKUP.value,)

PURPOSES = ("جهة عامة", "مصرف", "جامعة", "سفارة", "محكمة", "أخرى")
NATIONAL = FieldSpec("national_number", "الرقم الوطني", "National number", FT.NATIONAL_NUMBER)
PURPOSE = FieldSpec(
    "purpose", "الجهة المقدم إليها", "To be presented to", FT.CHOICE, True, PURPOSES
)
PHONE_OPTIONAL = FieldSpec("phone", "رقم الجوال", "Mobile number", FT.PHONE, False)
PHONE = FieldSpec("phone", "رقم الجوال", "Mobile number", FT.PHONE, True)
ZONE = FieldSpec("real_estate_zone", "المنطقة العقارية", "Real-estate zone", FT.TEXT)
PROPERTY = FieldSpec("property_number", "رقم العقار", "Property number", FT.NUMBER)
ID_COPY = AttachmentSpec("id-copy", "صورة البطاقة الشخصية", "Copy of the ID card")
METER = FieldSpec("meter_number", "رقم العداد", "Meter number", FT.TEXT)
METER_CATEGORIES = tuple(CATEGORY_BY_LABEL)  # منزلي، تجاري… (water.meters maps them)
DEED_OR_LEASE = AttachmentSpec(
    "deed-or-lease", "سند الملكية أو عقد الإيجار", "Title deed or lease contract"
)
STAMP = "رسم الطابع", "Stamp duty"
SERVICE_FEE = "بدل الخدمة", "Service fee"


def _stamp(old: int) -> FeeSpec:
    return FeeSpec(*STAMP, old)


def _service_fee(old: int) -> FeeSpec:
    return FeeSpec(*SERVICE_FEE, old)


SERVICES: list[ServiceSpec] = [
    ServiceSpec(
        "civil-individual-extract",
        "civil",
        "بيان قيد فردي",
        "Individual civil-registry extract",
        "بيان قيد فردي",
        "Individual civil-registry extract",
        COUNTER,
        1,
        BOTH,
        (NATIONAL, PURPOSE, PHONE_OPTIONAL),
        (_stamp(1000), _service_fee(2000)),
        description_ar="صورة عن قيد الشخص في السجل المدني، تصدر فوراً.",
        description_en="A person's entry in the civil registry, issued on the spot.",
    ),
    ServiceSpec(
        "civil-family-extract",
        "civil",
        "بيان قيد عائلي",
        "Family civil-registry extract",
        "بيان قيد عائلي",
        "Family civil-registry extract",
        COUNTER,
        1,
        BOTH,
        (
            FieldSpec(
                "national_number",
                "الرقم الوطني لرب الأسرة",
                "National number of the head of family",
                FT.NATIONAL_NUMBER,
            ),
            PURPOSE,
            PHONE_OPTIONAL,
        ),
        (_stamp(1000), _service_fee(3000)),
        description_ar="قيد الأسرة كاملاً كما هو في السجل المدني.",
        description_en="The whole family's entry in the civil registry.",
    ),
    ServiceSpec(
        "civil-birth-statement",
        "civil",
        "بيان ولادة",
        "Birth statement",
        "بيان ولادة",
        "Birth statement",
        COUNTER,
        1,
        BOTH,
        (NATIONAL, FieldSpec("birth_date", "تاريخ الولادة", "Date of birth", FT.DATE), PURPOSE),
        (_stamp(1000), _service_fee(2000)),
    ),
    ServiceSpec(
        "civil-divorce-statement",
        "civil",
        "بيان طلاق",
        "Divorce statement",
        "بيان طلاق",
        "Divorce statement",
        COUNTER,
        1,
        BOTH,
        (
            NATIONAL,
            FieldSpec("divorce_date", "تاريخ الطلاق", "Date of divorce", FT.DATE, False),
            PURPOSE,
        ),
        (_stamp(1000), _service_fee(2000)),
    ),
    ServiceSpec(
        "justice-not-convicted",
        "justice",
        "بيان غير محكوم (لا حكم عليه)",
        "Criminal-record extract (not convicted)",
        "وثيقة غير محكوم",
        "Criminal-record extract: not convicted",
        COUNTER,
        1,
        BOTH,
        (
            NATIONAL,
            FieldSpec("mother_name", "اسم الأم وشهرتها", "Mother's full name", FT.TEXT),
            FieldSpec(
                "purpose",
                "الغاية",
                "Purpose",
                FT.CHOICE,
                True,
                ("توظيف", "سفر", "دراسة", "ترخيص", "أخرى"),
            ),
        ),
        (_stamp(5000), _service_fee(2000)),
        description_ar="وثيقة السجل العدلي: لا حكم عليه. طابع 5,000 ليرة قديمة.",
        description_en="Criminal-record extract stating no conviction. Stamp: 5,000 old pounds.",
    ),
    ServiceSpec(
        "labour-non-employment",
        "labour",
        "وثيقة غير موظف",
        "Non-employment certificate",
        "وثيقة غير موظف",
        "Non-employment certificate",
        BACK_OFFICE,
        3,
        PICKUP,
        (NATIONAL, PURPOSE, PHONE),
        (_stamp(1000), _service_fee(2000)),
        (ID_COPY,),
        validity_days=30,
        description_ar="تثبت أن الشخص غير موظف في الدولة؛ يدقق الطلب في المديرية.",
        description_en="States that the person is not a state employee; checked by the directorate.",
    ),
    ServiceSpec(
        "bank-statement",
        "banks",
        "بيان مصرفي (عدم مديونية)",
        "Bank statement (no outstanding loans)",
        "بيان مصرفي",
        "Bank statement",
        BACK_OFFICE,
        2,
        BOTH,
        (
            NATIONAL,
            FieldSpec(
                "bank",
                "المصرف",
                "Bank",
                FT.CHOICE,
                True,
                (
                    "المصرف التجاري السوري",
                    "المصرف العقاري",
                    "مصرف التسليف الشعبي",
                    "المصرف الزراعي التعاوني",
                ),
            ),
            PURPOSE,
            PHONE,
        ),
        (_stamp(2000), _service_fee(3000)),
        validity_days=30,
    ),
    ServiceSpec(
        "finance-statement",
        "finance",
        "بيان من مديرية المالية (عدم ترتب ضرائب)",
        "Finance-directorate statement (no tax due)",
        "بيان مالي",
        "Finance-directorate statement",
        BACK_OFFICE,
        3,
        BOTH,
        (
            NATIONAL,
            FieldSpec("tax_file", "رقم الإضبارة الضريبية", "Tax file number", FT.TEXT, False),
            PURPOSE,
            PHONE,
        ),
        (_stamp(2000), _service_fee(3000)),
        validity_days=30,
    ),
    ServiceSpec(
        "council-clearance",
        "council-revenue",
        "براءة ذمة من مجلس المدينة",
        "Clearance certificate (council dues)",
        "براءة ذمة",
        "Clearance certificate",
        BACK_OFFICE,
        2,
        BOTH,
        (
            NATIONAL,
            FieldSpec(
                "purpose",
                "الغاية",
                "Purpose",
                FT.CHOICE,
                True,
                ("بيع عقار", "رخصة بناء", "تسجيل عقد", "سفر", "أخرى"),
            ),
            FieldSpec("real_estate_zone", "المنطقة العقارية", "Real-estate zone", FT.TEXT, False),
            FieldSpec("property_number", "رقم العقار", "Property number", FT.NUMBER, False),
            PHONE,
        ),
        (_service_fee(5000),),
        (ID_COPY,),
        validity_days=30,
        description_ar="تثبت عدم ترتب رسوم أو ضرائب للمجلس على صاحب الطلب أو عقاره.",
        description_en="States that no council fees or taxes are owed by the applicant or property.",
    ),
    ServiceSpec(
        "council-building-permit",
        "council-technical",
        "رخصة بناء",
        "Building permit",
        "رخصة بناء",
        "Building permit",
        BACK_OFFICE,
        30,
        PICKUP,
        (
            NATIONAL,
            ZONE,
            PROPERTY,
            FieldSpec(
                "permit_kind",
                "نوع الرخصة",
                "Kind of permit",
                FT.CHOICE,
                True,
                ("بناء جديد", "إضافة طابق", "ترميم وتدعيم"),
            ),
            FieldSpec("floors", "عدد الطوابق", "Number of floors", FT.NUMBER),
            PHONE,
        ),
        (
            FeeSpec("رسم الترخيص", "Permit fee", 100_000),
            FeeSpec("رسم التدقيق الفني", "Technical review fee", 50_000),
        ),
        (
            AttachmentSpec(
                "property-extract", "بيان قيد عقاري حديث", "Recent real-estate record extract"
            ),
            AttachmentSpec(
                "plans",
                "المخططات الهندسية المصدقة من نقابة المهندسين",
                "Engineering plans certified by the Engineers' Syndicate",
            ),
            AttachmentSpec(
                "clearance", "براءة ذمة من مجلس المدينة", "Council clearance certificate"
            ),
            ID_COPY,
        ),
        validity_days=365,
    ),
    ServiceSpec(
        "council-trade-licence",
        "council-licensing",
        "رخصة محل تجاري",
        "Trade licence",
        "رخصة محل تجاري",
        "Trade licence",
        BACK_OFFICE,
        10,
        PICKUP,
        (
            NATIONAL,
            FieldSpec("shop_name", "اسم المحل", "Shop name", FT.TEXT),
            FieldSpec(
                "activity",
                "النشاط",
                "Activity",
                FT.CHOICE,
                True,
                ("بقالة", "مطعم", "صيدلية", "ألبسة", "صيانة", "أخرى"),
            ),
            FieldSpec(
                "neighbourhood",
                "الحي",
                "Neighbourhood",
                FT.CHOICE,
                True,
                tuple(ar for ar, _ in NEIGHBOURHOODS),
            ),
            FieldSpec("area_m2", "المساحة (م²)", "Floor area (m²)", FT.NUMBER),
            PHONE,
        ),
        (
            FeeSpec("رسم الترخيص", "Licence fee", 25_000),
            FeeSpec("رسم الكشف", "Inspection fee", 10_000),
        ),
        (
            AttachmentSpec(
                "lease-or-deed", "عقد الإيجار أو سند الملكية", "Lease contract or title deed"
            ),
            ID_COPY,
            AttachmentSpec("health-certificate", "الشهادة الصحية", "Health certificate", False),
        ),
        validity_days=365,
    ),
    ServiceSpec(
        "council-lease-certification",
        "council-properties",
        "تصديق عقد إيجار",
        "Lease-contract certification",
        "عقد إيجار مصدق",
        "Certified lease contract",
        BACK_OFFICE,
        2,
        PICKUP,
        (
            FieldSpec(
                "national_number",
                "الرقم الوطني للمؤجر",
                "Landlord's national number",
                FT.NATIONAL_NUMBER,
            ),
            FieldSpec(
                "tenant_national_number",
                "الرقم الوطني للمستأجر",
                "Tenant's national number",
                FT.NATIONAL_NUMBER,
            ),
            FieldSpec("start_date", "تاريخ بدء العقد", "Start date", FT.DATE),
            FieldSpec("duration_months", "مدة العقد (أشهر)", "Duration (months)", FT.NUMBER),
            FieldSpec(
                "monthly_rent",
                "بدل الإيجار الشهري (ليرة جديدة)",
                "Monthly rent (new pounds)",
                FT.NUMBER,
            ),
            FieldSpec("use", "الاستعمال", "Use", FT.CHOICE, True, ("سكني", "تجاري")),
            PHONE,
        ),
        (_stamp(2000), _service_fee(3000)),
        (
            AttachmentSpec("contract", "نسخة عقد الإيجار", "Copy of the lease contract"),
            AttachmentSpec(
                "title", "سند الملكية أو بيان القيد العقاري", "Title deed or property extract"
            ),
        ),
        validity_days=365,
    ),
    ServiceSpec(
        "cadastral-property-extract",
        "cadastral",
        "بيان قيد عقاري",
        "Real-estate record extract",
        "بيان قيد عقاري",
        "Real-estate record extract",
        BACK_OFFICE,
        2,
        BOTH,
        (NATIONAL, ZONE, PROPERTY, PURPOSE),
        (_stamp(2000), _service_fee(2000)),
        description_ar="قيد العقار (رقم العقار في المنطقة العقارية) مع الأسهم من 2400.",
        description_en="A property's record (property N of zone X) with its shares out of 2,400.",
    ),
    ServiceSpec(
        "water-clearance",
        "water",
        "براءة ذمة من مؤسسة المياه",
        "Water clearance certificate",
        "براءة ذمة مياه",
        "Water clearance certificate",
        COUNTER,
        1,
        BOTH,
        (
            METER,
            FieldSpec(
                "national_number",
                "الرقم الوطني للمشترك",
                "Subscriber's national number",
                FT.NATIONAL_NUMBER,
            ),
            PURPOSE,
        ),
        (_service_fee(1000),),
        validity_days=30,
        description_ar="تثبت أنه لا يترتب على العداد أي مبلغ مستحق حتى آخر دورة فوترة؛"
        " لا تصدر إذا وجدت فواتير غير مسددة.",
        description_en="States that nothing is owed for the meter up to its latest bill;"
        " refused while bills are unpaid.",
    ),
    # Issue 5: the water establishment's meter services (decision 0011). Decided centrally
    # (the subscriptions register is the central node's); the center takes the papers and
    # the fee. Fee amounts are placeholders, dated and editable like every fee.
    ServiceSpec(
        "water-new-meter",
        "water",
        "اشتراك مياه جديد (تركيب عداد)",
        "New water meter (subscription)",
        "إشعار اشتراك مياه",
        "Water subscription notice",
        BACK_OFFICE,
        10,
        PICKUP,
        (
            FieldSpec("address", "عنوان العقار", "Address of the property", FT.TEXT),
            FieldSpec(
                "neighbourhood",
                "الحي",
                "Neighbourhood",
                FT.CHOICE,
                True,
                tuple(ar for ar, _ in NEIGHBOURHOODS),
            ),
            FieldSpec(
                "category", "نوع الاستعمال", "Usage category", FT.CHOICE, True, METER_CATEGORIES
            ),
            FieldSpec("real_estate_zone", "المنطقة العقارية", "Real-estate zone", FT.TEXT, False),
            FieldSpec("property_number", "رقم العقار", "Property number", FT.NUMBER, False),
            PHONE,
        ),
        (
            _service_fee(5000),
            FeeSpec("رسم الكشف الفني", "Field inspection fee", 10_000),
            FeeSpec("بدل تركيب العداد", "Meter installation", 50_000),
        ),
        (ID_COPY, DEED_OR_LEASE),
        validity_days=365,
        description_ar="طلب عداد مياه جديد: تدقيق الوثائق، كشف فني في الموقع، ثم الموافقة"
        " وتفعيل الاشتراك ورقم العداد برسالة نصية.",
        description_en="A new water meter: papers checked, a field inspection, then approval;"
        " the subscription and its meter number are sent by SMS.",
    ),
    ServiceSpec(
        "water-meter-transfer",
        "water",
        "نقل ملكية عداد مياه",
        "Water meter ownership transfer",
        "إشعار نقل ملكية عداد مياه",
        "Water meter ownership transfer notice",
        BACK_OFFICE,
        5,
        BOTH,
        (
            METER,
            FieldSpec(
                "seller_national_number",
                "الرقم الوطني للمشترك الحالي (البائع)",
                "National number of the current subscriber (seller)",
                FT.NATIONAL_NUMBER,
            ),
            FieldSpec("effective_date", "تاريخ نفاذ النقل", "Transfer takes effect on", FT.DATE),
            PHONE_OPTIONAL,
        ),
        (_service_fee(5000),),
        (
            AttachmentSpec(
                "ownership-proof",
                "سند الملكية أو عقد الإيجار باسم المشتري",
                "Title deed or lease contract in the buyer's name",
            ),
            ID_COPY,
        ),
        validity_days=365,
        description_ar="ينقل الاشتراك إلى المشتري (مقدم الطلب)؛ لا يقبل إذا وجدت فواتير غير مسددة.",
        description_en="Moves the subscription to the buyer (the applicant); refused while"
        " bills are unpaid.",
    ),
]

# Services whose signed PDF the applicant may download from the portal (Service.citizen_download).
# Statements about the applicant themself are used as information and checked by their QR code
# by whoever receives them: civil-registry extracts, the criminal-record and non-employment
# statements, bank, finance, council and water clearances. Not downloadable: what must exist as
# one original — licences and permits (displayed or shown on site), the certified lease contract
# (its stamped copies are the contract) and the real-estate extract (notaries and courts file the
# original) — these are collected at a center or sent by post.
DOWNLOADABLE = frozenset(
    {
        "civil-individual-extract",
        "civil-family-extract",
        "civil-birth-statement",
        "civil-divorce-statement",
        "justice-not-convicted",
        "labour-non-employment",
        "bank-statement",
        "finance-statement",
        "council-clearance",
        "water-clearance",
    }
)

# ---------------------------------------------------------------- demo people

STAFF_NAMES = [
    "سامر الخطيب", "ريم العلي", "مازن الدروبي", "هبة السباعي", "خالد الأتاسي", "لمى الجندي",
    "رامي الحسيني", "نور الزهراوي", "عمر الرفاعي", "ديما العطار", "يوسف الشامي", "رهف الأيوبي",
    "حسان النحاس", "سلمى الخوري", "علي المصري", "مريم الحمصي", "فادي طليمات", "رنا الجمالي",
    "باسل الدالاتي", "غادة الملوحي", "وسيم الحلبي", "منى الشيخ", "أيمن سويد", "ليلى الكردي",
    "ماهر الصافي", "عبير جندلي", "نزار الفاخوري", "سوسن الموصلي", "طارق البواب", "إيمان الحافظ",
]  # fmt: skip

# (national number, first, father, family, mother, birth date, mobile)
DEMO_CITIZENS: list[tuple[str, str, str, str, str, dt.date, str]] = [
    ("04011000101", "أحمد", "محمد", "الحمصي", "فاطمة الأتاسي", dt.date(1985, 3, 12), "+963944110101"),
    ("04011000102", "فاطمة", "خالد", "السباعي", "سعاد الدروبي", dt.date(1990, 7, 2), "+963933220102"),
    ("04021000103", "محمد", "عبد الله", "الدروبي", "خديجة الجندي", dt.date(1978, 11, 23), "+963955330103"),
    ("04021000104", "مريم", "يوسف", "الخوري", "ليلى حداد", dt.date(1996, 1, 30), "+963988440104"),
    ("04031000105", "خالد", "إبراهيم", "الأتاسي", "وفاء الرفاعي", dt.date(1969, 5, 8), "+963944550105"),
    ("04031000106", "رنا", "مصطفى", "الزهراوي", "منى العطار", dt.date(2001, 9, 15), "+963936660106"),
    ("04041000107", "عمر", "حسن", "الجندي", "سميرة الشامي", dt.date(1988, 12, 1), "+963947770107"),
    ("04041000108", "هبة", "سليمان", "الرفاعي", "نجاح الأيوبي", dt.date(1993, 4, 19), "+963958880108"),
]  # fmt: skip
# The first ones also get a citizen portal account (they log in with an SMS code).
DEMO_CITIZEN_ACCOUNTS = 3
SANDBOX_SMS_PATH = "/notifications/sandbox/"  # notifications:sandbox_sms (demo and debug only)


@dataclass
class _Tally:
    created: dict[str, int] = field(default_factory=dict)
    credentials: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, n: int = 1) -> None:
        if n:
            self.created[kind] = self.created.get(kind, 0) + n


def _say(stdout: TextIO | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def seed_homs(stdout: TextIO | None = None, *, demo: bool = False) -> dict[str, Any]:
    """Add the Homs network (and, with `demo`, demo staff and citizens) where missing.

    Returns `{"created": {kind: count}, "totals": {kind: count}, "credentials": [...]}`;
    `credentials` lists only accounts created by this run, each with its one-time password.
    """
    tally = _Tally()
    with transaction.atomic():
        _seed_groups(tally)
        by_name = _seed_neighbourhoods(tally)
        centers = _seed_centers(tally, by_name)
        agencies = _seed_agencies(tally)
        _seed_services(tally, agencies)
        tally.add("water tariffs", seed_tariffs())
        if demo:
            _seed_staff(tally, centers, agencies)
            _seed_citizens(tally)
            _seed_citizen_accounts(tally)
        if tally.created:
            audit.record("seed.homs", actor="seed", demo=demo, created=dict(tally.created))
    totals = {
        "centers": Center.objects.count(),
        "neighbourhoods": Neighbourhood.objects.count(),
        "agencies": Agency.objects.count(),
        "services": Service.objects.count(),
        "staff": User.objects.filter(Q(groups__isnull=False) | Q(is_staff=True)).distinct().count(),
        "citizens": Citizen.objects.count(),
        "citizen accounts": User.objects.filter(citizen__isnull=False).count(),
    }
    if tally.created:
        for kind, n in sorted(tally.created.items()):
            _say(stdout, f"{kind}: {n} created")
    else:
        _say(stdout, "Homs seed: nothing to add (already seeded).")
    return {"created": tally.created, "totals": totals, "credentials": tally.credentials}


def _seed_groups(tally: _Tally) -> None:
    for code in roles.ALL_ROLES:
        _, created = Group.objects.get_or_create(name=code)
        tally.add("groups", int(created))
    # The auditor reads every record in the admin and changes none.
    auditor = Group.objects.get(name=roles.AUDITOR)
    have = set(auditor.permissions.values_list("pk", flat=True))
    missing = list(Permission.objects.filter(codename__startswith="view_").exclude(pk__in=have))
    if missing:
        auditor.permissions.add(*missing)
        tally.add("permissions", len(missing))


def _seed_neighbourhoods(tally: _Tally) -> dict[str, Neighbourhood]:
    existing = {n.name_ar: n for n in Neighbourhood.objects.all()}
    for name_ar, name_en in NEIGHBOURHOODS:
        if name_ar not in existing:
            existing[name_ar] = Neighbourhood.objects.create(name_ar=name_ar, name_en=name_en)
            tally.add("neighbourhoods")
    return existing


def _seed_centers(tally: _Tally, neighbourhoods: dict[str, Neighbourhood]) -> dict[str, Center]:
    existing = {c.code: c for c in Center.objects.all()}
    for spec in CENTERS:
        if spec.code in existing:
            continue
        center = Center.objects.create(
            code=spec.code,
            name_ar=spec.name_ar,
            name_en=spec.name_en,
            kind=spec.kind,
            power_source=Center.Power.SOLAR if spec.solar_kw else Center.Power.GRID,
            solar_kw=Decimal(spec.solar_kw) if spec.solar_kw else None,
            address=spec.address,
            opening_hours=spec.hours,
            accepts_pickup=spec.accepts_pickup,
        )
        center.neighbourhoods.set([neighbourhoods[name] for name in spec.neighbourhoods])
        existing[spec.code] = center
        tally.add("centers")
    return existing


def _seed_agencies(tally: _Tally) -> dict[str, Agency]:
    existing = {a.code: a for a in Agency.objects.all()}
    for code, name_ar, name_en in AGENCIES:
        if code not in existing:
            existing[code] = Agency.objects.create(code=code, name_ar=name_ar, name_en=name_en)
            tally.add("agencies")
    return existing


def _seed_services(tally: _Tally, agencies: dict[str, Agency]) -> None:
    _upgrade_water_clearance(tally)
    existing = {s.code: s for s in Service.objects.all()}
    for spec in SERVICES:
        service = existing.get(spec.code)
        if service is None:
            service = Service.objects.create(
                code=spec.code,
                agency=agencies[spec.agency],
                name_ar=spec.name_ar,
                name_en=spec.name_en,
                description_ar=spec.description_ar,
                description_en=spec.description_en,
                approval=spec.approval,
                sla_days=spec.sla_days,
                delivery_modes=list(spec.modes),
                document_template=DOCUMENT_TEMPLATE,
                document_title_ar=spec.title_ar,
                document_title_en=spec.title_en,
                validity_days=spec.validity_days,
                citizen_download=spec.code in DOWNLOADABLE,
            )
            tally.add("services")
        _seed_service_parts(tally, service, spec)


def _upgrade_water_clearance(tally: _Tally) -> None:
    """The first water clearance asked for a numeric "subscription number"; a meter is known
    by its meter number (letters, digits, dashes). A database seeded then has that field
    renamed once, if still as seeded (an administrator's edit is left alone)."""
    old = ServiceField.objects.filter(
        service__code="water-clearance",
        name="subscription_number",
        type=FT.NUMBER,
        label_ar="رقم الاشتراك",
    ).first()
    if (
        old is None
        or ServiceField.objects.filter(service_id=old.service_id, name=METER.name).exists()
    ):
        return
    old.name, old.type = METER.name, METER.type
    old.label_ar, old.label_en = METER.label_ar, METER.label_en
    old.save(update_fields=["name", "type", "label_ar", "label_en"])
    tally.add("fields upgraded")


def _seed_service_parts(tally: _Tally, service: Service, spec: ServiceSpec) -> None:
    have_fields = set(service.fields.values_list("name", flat=True))
    for position, f in enumerate(spec.fields):
        if f.name not in have_fields:
            ServiceField.objects.create(
                service=service,
                name=f.name,
                label_ar=f.label_ar,
                label_en=f.label_en,
                type=f.type,
                required=f.required,
                choices=list(f.choices),
                position=position,
            )
            tally.add("fields")
    have_attachments = set(service.attachments.values_list("code", flat=True))
    for a in spec.attachments:
        if a.code not in have_attachments:
            RequiredAttachment.objects.create(
                service=service,
                code=a.code,
                label_ar=a.label_ar,
                label_en=a.label_en,
                required=a.required,
            )
            tally.add("attachments")
    if not service.fees.exists():  # fees are dated: an edited or superseded fee stays as is
        for fee in spec.fees:
            Fee.objects.create(
                service=service,
                label_ar=fee.label_ar,
                label_en=fee.label_en,
                amount=from_old_pounds(fee.old_pounds),
                valid_from=FEES_FROM,
            )
            tally.add("fees")


# ---------------------------------------------------------------- demo staff and citizens


def strong_password() -> str:
    """20 URL-safe random characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


@dataclass(frozen=True)
class StaffSpec:
    username: str
    full_name: str
    role: str
    center: str | None = None
    agency: str | None = None


def demo_staff() -> list[StaffSpec]:
    """A clerk and a cashier at every physical center, supervisors, officers, admin, auditor,
    a finance officer (gateway settlement files)."""
    names = iter(STAFF_NAMES * 2)
    people: list[StaffSpec] = []
    for spec in CENTERS:
        if spec.kind == Center.Kind.ELECTRONIC:
            continue
        code = spec.code.lower()
        people.append(StaffSpec(f"{code}.clerk", next(names), roles.CLERK, spec.code))
        people.append(StaffSpec(f"{code}.cashier", next(names), roles.CASHIER, spec.code))
    people += [
        StaffSpec("c02.supervisor", next(names), roles.SUPERVISOR, "C02"),
        StaffSpec("supervisor", next(names), roles.SUPERVISOR),
        StaffSpec("officer.civil", next(names), roles.OFFICER, agency="civil"),
        StaffSpec("officer", next(names), roles.OFFICER),
        StaffSpec("admin", next(names), roles.ADMIN),
        StaffSpec("auditor", next(names), roles.AUDITOR),
        StaffSpec("finance", next(names), roles.FINANCE),
    ]
    return people


def _seed_staff(tally: _Tally, centers: dict[str, Center], agencies: dict[str, Agency]) -> None:
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
    taken = set(User.objects.values_list("username", flat=True))
    for spec in demo_staff():
        if spec.username in taken:
            continue  # keeps its password: only new accounts get one
        password = strong_password()
        is_admin = spec.role == roles.ADMIN
        user = User.objects.create_user(
            username=spec.username,
            password=password,
            full_name=spec.full_name,
            center=centers[spec.center] if spec.center else None,
            agency=agencies[spec.agency] if spec.agency else None,
            is_staff=spec.role in (roles.ADMIN, roles.AUDITOR),
            is_superuser=is_admin,
        )
        user.groups.add(groups[spec.role])
        tally.add("staff")
        tally.credentials.append(
            {
                "username": spec.username,
                "password": password,
                "role": spec.role,
                "center": spec.center or "",
                "agency": spec.agency or "",
                "full_name": spec.full_name,
            }
        )


def _seed_citizens(tally: _Tally) -> None:
    taken = set(
        Citizen.objects.filter(national_number__in=[c[0] for c in DEMO_CITIZENS]).values_list(
            "national_number", flat=True
        )
    )
    for national, first, father, last, mother, born, phone in DEMO_CITIZENS:
        if national in taken:
            continue
        Citizen.objects.create(
            national_number=national,
            first_name=first,
            father_name=father,
            last_name=last,
            mother_name=mother,
            birth_date=born,
            phone=phone,
        )
        tally.add("citizens")


def _seed_citizen_accounts(tally: _Tally) -> None:
    """Portal accounts for the first demo citizens, as their first SMS login would create them
    (username = the mobile, no password, no role), then linked to their record through
    `complete_profile` (which links only a record carrying that very mobile)."""
    from baladiya.accounts.services import complete_profile

    for national, first, father, last, mother, born, phone in DEMO_CITIZENS[:DEMO_CITIZEN_ACCOUNTS]:
        citizen = Citizen.objects.filter(national_number=national).first()
        if (
            citizen is None
            or User.objects.filter(username=phone).exists()
            or User.objects.filter(citizen=citizen).exists()
        ):
            continue
        user = User(username=phone)
        user.set_unusable_password()
        user.save()
        audit.record("citizen.account_created", actor="seed", obj=user, phone=phone)
        complete_profile(
            user,
            national_number=national,
            first_name=first,
            father_name=father,
            last_name=last,
            mother_name=mother,
            birth_date=born,
        )
        tally.add("citizen accounts")
        tally.credentials.append(
            {
                "username": phone,
                "password": "",
                "role": "citizen",
                "center": "",
                "agency": "",
                "full_name": citizen.full_name,
                "login": (
                    "Citizen portal /e/login/ with this mobile number and the one-time code "
                    f"sent by SMS: read it on the sandbox SMS page {SANDBOX_SMS_PATH}"
                ),
            }
        )
