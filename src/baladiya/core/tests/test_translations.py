"""The Arabic catalog: complete, consistent with the code, compiled, and used by the pages.

- every entry is translated (no empty or fuzzy msgstr), keeps the msgid's placeholders and
  HTML tags, and is actually Arabic;
- every string marked for translation in the code is in the committed catalog (this is the
  test that fails when someone adds a string and forgets `makemessages` + translating it);
- the committed django.mo says what django.po says (someone ran `compilemessages`);
- pages render in Arabic, right to left, by default and in English on request.

To update the catalog after changing strings (from src/baladiya):
  BALADIYA_TESTING=1 django-admin makemessages -l ar --no-obsolete --settings=baladiya.settings \
      --ignore='e2e/*' --ignore='*/tests/*'
  (translate the new entries in locale/ar/LC_MESSAGES/django.po, remove "fuzzy" flags)
  BALADIYA_TESTING=1 django-admin compilemessages -l ar --settings=baladiya.settings
Run both from src/baladiya: compilemessages walks every `locale` folder below the current one.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from baladiya.accounts.models import User

SOURCE_DIR = Path(settings.BASE_DIR)
LOCALE_DIR = SOURCE_DIR / "locale" / "ar" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
# The same command line as in the module docstring (the tests and e2e suites hold no UI text).
IGNORE = ["e2e/*", "*/tests/*"]
ARABIC_PLURALS = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
    "n%100>=11 && n%100<=99 ? 4 : 5;"
)
# Forms 0, 1 and 2 each stand for one number, so Arabic may spell it out ("وثيقتان").
SINGLE_NUMBER_FORMS = {0, 1, 2}

PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]|%[sdif%]|\{\w*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
# A msgid of punctuation alone (the list separator ", ") is translated by Arabic punctuation.
ARABIC_PUNCTUATION = re.compile(r"[\u060c\u061b\u061f]")  # ، ؛ ؟
LATIN_LETTER = re.compile(r"[A-Za-z]")


# ---------------------------------------------------------------- a small .po reader


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a singular entry
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    def label(self) -> str:
        ctx = f"[{self.msgctxt}] " if self.msgctxt else ""
        return f"line {self.line}: {ctx}{self.msgid!r}"


def _unquote(text: str) -> str:
    value = ast.literal_eval(text)
    assert isinstance(value, str)
    return value


def read_po(path: Path) -> tuple[Entry, list[Entry]]:
    """The header entry and the other entries of a .po file (GNU gettext syntax)."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None  # which field a continuation line extends

    def finish() -> None:
        nonlocal current
        if target is not None or current.msgstr:
            entries.append(current)
        current = Entry()

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        elif line.startswith("#"):
            if line.startswith("#,"):
                if target is not None and current.msgstr:
                    finish()
                    target = None
                current.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation without a field"
            name, index = target
            text = _unquote(line)
            if name == "msgstr":
                current.msgstr[index] += text
            else:
                setattr(current, name, (getattr(current, name) or "") + text)
            continue
        if keyword in ("msgctxt", "msgid") and current.msgstr:
            finish()
        current.obsolete = current.obsolete or obsolete
        if not current.line:
            current.line = number
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(current, keyword, _unquote(rest))
            target = (keyword, 0)
        elif keyword == "msgstr":
            current.msgstr[0] = _unquote(rest)
            target = ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            current.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    finish()
    live = [e for e in entries if not e.obsolete]
    header = next(e for e in live if e.msgid == "" and e.msgctxt is None)
    return header, [e for e in live if e is not header]


@pytest.fixture(scope="module")
def catalog() -> tuple[Entry, list[Entry]]:
    return read_po(PO_FILE)


@pytest.fixture(autouse=True)
def _keep_the_active_language() -> Iterator[None]:
    """Requests here activate Arabic or English; leave the next test the language it had."""
    before = translation.get_language()
    yield
    if before:
        translation.activate(before)
    else:
        translation.deactivate()


# ---------------------------------------------------------------- (a) the catalog itself


def test_header_declares_arabic_with_six_plural_forms(catalog: tuple[Entry, list[Entry]]) -> None:
    header, _ = catalog
    text = header.msgstr[0]
    assert "fuzzy" not in header.flags
    assert "Language: ar\n" in text
    assert "charset=UTF-8" in text
    assert f"Plural-Forms: {ARABIC_PLURALS}\n" in text


def test_every_entry_is_translated_and_none_is_fuzzy(catalog: tuple[Entry, list[Entry]]) -> None:
    _, entries = catalog
    assert len(entries) > 500  # the whole UI, not an empty file
    untranslated = [
        e.label()
        for e in entries
        if "fuzzy" in e.flags
        or not all(s.strip() for s in e.msgstr.values())
        or sorted(e.msgstr) != (list(range(6)) if e.msgid_plural else [0])
    ]
    assert untranslated == []


def test_no_duplicate_entries(catalog: tuple[Entry, list[Entry]]) -> None:
    _, entries = catalog
    twice = [key for key, n in Counter(e.key[:2] for e in entries).items() if n > 1]
    assert twice == []


def test_placeholders_and_tags_are_kept(catalog: tuple[Entry, list[Entry]]) -> None:
    _, entries = catalog
    wrong = []
    for e in entries:
        for index, text in e.msgstr.items():
            source = e.msgid_plural if e.msgid_plural and index != 1 else e.msgid
            want, got = Counter(PLACEHOLDER.findall(source)), Counter(PLACEHOLDER.findall(text))
            may_drop = bool(e.msgid_plural) and index in SINGLE_NUMBER_FORMS
            if (got - want) or (not may_drop and got != want):
                wrong.append(f"{e.label()} [{index}]: {sorted(want)} -> {sorted(got)}")
            if Counter(TAG.findall(source)) != Counter(TAG.findall(text)):
                wrong.append(f"{e.label()} [{index}]: HTML tags differ")
    assert wrong == []


def _is_arabic(msgid: str, msgstr: str) -> bool:
    if ARABIC_LETTER.search(msgstr):
        return True
    punctuation_only = not LATIN_LETTER.search(msgid)
    return punctuation_only and bool(ARABIC_PUNCTUATION.search(msgstr))


def test_translations_are_arabic(catalog: tuple[Entry, list[Entry]]) -> None:
    """An English msgstr copied from the msgid counts as untranslated."""
    _, entries = catalog
    not_arabic = [
        e.label() for e in entries for s in e.msgstr.values() if not _is_arabic(e.msgid, s)
    ]
    assert not_arabic == []


def test_compiled_catalog_matches_the_po_file(catalog: tuple[Entry, list[Entry]]) -> None:
    """django.mo is what Django reads: it must hold exactly what django.po says."""
    _, entries = catalog
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in entries:
        ctx = e.msgctxt
        for n, index in ((1, 1), (2, 2), (5, 3), (11, 4), (100, 5), (0, 0)):
            if not e.msgid_plural and n != 1:
                continue
            if e.msgid_plural:
                got = (
                    compiled.npgettext(ctx, e.msgid, e.msgid_plural, n)
                    if ctx
                    else compiled.ngettext(e.msgid, e.msgid_plural, n)
                )
                want = e.msgstr[index]
            else:
                got = compiled.pgettext(ctx, e.msgid) if ctx else compiled.gettext(e.msgid)
                want = e.msgstr[0]
            if got != want:
                stale.append(e.label())
                break
    assert stale == [], "run compilemessages (see this module's docstring)"


# ---------------------------------------------------------------- (b) catalog vs. the code


def _copy_sources(target: Path) -> None:
    def skip(folder: str, names: list[str]) -> set[str]:
        return {
            n
            for n in names
            if n in {"locale", "static", "migrations", "tests", "e2e", "__pycache__"}
            or (not Path(folder, n).is_dir() and Path(n).suffix not in {".py", ".html", ".txt"})
        }

    shutil.copytree(SOURCE_DIR, target, ignore=skip)


def test_every_string_in_the_code_is_in_the_committed_catalog(
    catalog: tuple[Entry, list[Entry]],
    tmp_path: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Extract the strings afresh (makemessages on a copy of the sources) and compare."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is needed to check the catalog: apt-get install gettext")
    copy = tmp_path / "src"
    _copy_sources(copy)
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["ar"], ignore_patterns=IGNORE, verbosity=0)
    _, fresh = read_po(copy / "locale" / "ar" / "LC_MESSAGES" / "django.po")
    _, committed = catalog
    assert len(fresh) > 500
    known = {e.key for e in committed}
    missing = sorted(
        f"{e.msgctxt or ''}|{e.msgid}" + (f" / {e.msgid_plural}" if e.msgid_plural else "")
        for e in fresh
        if e.key not in known
    )
    assert missing == [], "run makemessages and translate (see this module's docstring)"


# ---------------------------------------------------------------- (c) the pages


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_login_page_is_arabic_and_right_to_left_by_default() -> None:
    html = _page(Client(), reverse("accounts:login"))
    assert '<html lang="ar" dir="rtl">' in html
    assert "<h1>دخول الموظفين</h1>" in html
    assert "اسم المستخدم" in html and "كلمة المرور" in html
    assert "مجلس مدينة حمص" in html
    assert "Staff login" not in html


@pytest.mark.django_db
def test_login_page_in_english_on_request() -> None:
    html = _page(Client(HTTP_ACCEPT_LANGUAGE="en"), reverse("accounts:login"))
    assert '<html lang="en" dir="ltr">' in html
    assert "<h1>Staff login</h1>" in html
    assert "دخول الموظفين" not in html


@pytest.mark.django_db
def test_language_switch_changes_and_keeps_the_language() -> None:
    client = Client()
    login = reverse("accounts:login")
    assert 'dir="rtl"' in _page(client, login)
    response = client.post(reverse("set_language"), {"language": "en", "next": login})
    assert response.status_code == 302 and response["Location"] == login
    html = _page(client, login)
    assert 'dir="ltr"' in html and "<h1>Staff login</h1>" in html
    client.post(reverse("set_language"), {"language": "ar", "next": login})
    assert "<h1>دخول الموظفين</h1>" in _page(client, login)


def test_counter_screen_is_arabic_by_default(clerk: User) -> None:
    client = Client()
    client.force_login(clerk)
    html = _page(client, reverse("applications:counter"))
    assert '<html lang="ar" dir="rtl">' in html
    assert "<h1>النافذة " in html
    assert "تسجيل مواطن" in html and "طلبات اليوم في هذا المركز" in html
    assert "Register a citizen" not in html


def test_counter_screen_in_english_on_request(clerk: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(clerk)
    html = _page(client, reverse("applications:counter"))
    assert '<html lang="en" dir="ltr">' in html
    assert "<h1>Counter " in html and "Register a citizen" in html


def test_domain_messages_and_plurals_follow_the_language() -> None:
    """Python strings (lazy labels, errors, plurals) come from the same catalog."""
    from baladiya.applications.workflow import Status, check_transition
    from baladiya.core.errors import IllegalTransition

    with translation.override("ar"):
        assert str(Status.HANDED_OVER.label) == "تم التسليم"
        with pytest.raises(IllegalTransition) as err:
            check_transition("hand_over", Status.SUBMITTED)
        assert str(err.value.message) == "حالة هذا الطلب «تم التقديم»: لا يمكن تنفيذ «تسليم» الآن."
        forms = [translation.ngettext("%(n)s receipt", "%(n)s receipts", n) for n in (1, 2, 7, 11)]
        assert forms == ["إيصال واحد", "إيصالان", "%(n)s إيصالات", "%(n)s إيصالاً"]
    with translation.override("en"):
        assert str(Status.HANDED_OVER.label) == "Handed over"
