"""Arabic name normalization: the stored search form folds the spellings people mix up."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baladiya.core.text import normalize_arabic

ARABIC_LETTERS = "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي"
ARABIC_MARKS = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0653\u0654\u0655\u0670ـ"


def test_alef_forms_fold_to_bare_alef() -> None:
    forms = ["أحمد", "إحمد", "آحمد", "احمد", "ٱحمد"]
    assert {normalize_arabic(f) for f in forms} == {"احمد"}


def test_hamza_on_alef_is_not_turned_into_a_lone_hamza() -> None:
    # pyarabic's normalizer turns أحمد into ءحمد (DESIGN §4a): we must not.
    assert normalize_arabic("أحمد") == "احمد"
    assert "ء" not in normalize_arabic("أحمد إبراهيم آمنة")


def test_lone_hamza_is_kept() -> None:
    assert normalize_arabic("سماء") == "سماء"


def test_ta_marbuta_folds_to_ha() -> None:
    assert normalize_arabic("فاطمة") == normalize_arabic("فاطمه") == "فاطمه"


def test_alef_maqsura_folds_to_ya() -> None:
    assert normalize_arabic("مصطفى") == normalize_arabic("مصطفي") == "مصطفي"
    assert normalize_arabic("عيسى") == "عيسي"


def test_hamza_on_waw_and_ya() -> None:
    assert normalize_arabic("مؤمن") == "مومن"
    assert normalize_arabic("رئيس") == "رييس"


def test_tatweel_is_dropped() -> None:
    assert normalize_arabic("محـــمد") == "محمد"


def test_diacritics_are_dropped() -> None:
    assert normalize_arabic("مُحَمَّدٌ") == "محمد"
    assert normalize_arabic("أَحْمَدُ") == "احمد"


def test_decomposed_hamza_matches_precomposed() -> None:
    # alef + combining hamza above is the same letter as أ once normalized.
    assert normalize_arabic("ا\u0654حمد") == normalize_arabic("أحمد") == "احمد"


def test_presentation_forms_fold() -> None:
    assert normalize_arabic("ﺃﺣﻤﺪ") == "احمد"


def test_spaces_collapse_and_trim() -> None:
    assert normalize_arabic("  أحمدُ   الحمصيّة \t") == "احمد الحمصيه"


def test_digits_and_latin() -> None:
    assert normalize_arabic("٠٤٠١٢٣٤٥٦٧٨") == "04012345678"
    assert normalize_arabic("Ahmad AL-Homsi") == "ahmad al-homsi"


@pytest.mark.parametrize("empty", ["", "   ", "ـــ", "\u064e\u0651"])
def test_empty_input(empty: str) -> None:
    assert normalize_arabic(empty) == ""


def test_none_is_treated_as_empty() -> None:
    assert normalize_arabic(None) == ""  # type: ignore[arg-type]


arabicish = st.text(alphabet=ARABIC_LETTERS + ARABIC_MARKS + " \t", max_size=40)


@given(arabicish)
def test_idempotent_on_arabic_text(text: str) -> None:
    once = normalize_arabic(text)
    assert normalize_arabic(once) == once


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_idempotent_on_any_text(text: str) -> None:
    once = normalize_arabic(text)
    assert normalize_arabic(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "e\u06de\u0301",  # a dropped mark between a letter and a combining accent
        "a\u0640\u0301",  # a dropped tatweel between a letter and a combining accent
        "\u1100\u0640\u1161",  # a dropped tatweel between two Hangul jamo
    ],
)
def test_idempotent_when_removal_joins_characters(text: str) -> None:
    once = normalize_arabic(text)
    assert normalize_arabic(once) == once


@given(arabicish)
def test_output_has_no_foldable_letters(text: str) -> None:
    out = normalize_arabic(text)
    assert not set(out) & set("أإآٱةىؤئـ" + ARABIC_MARKS)
    assert out == out.strip()
    assert "  " not in out
