"""Arabic text normalization for search (stdlib only; see DESIGN §4a on pyarabic/camel-tools).

The stored normalized form folds the spellings clerks and citizens mix up: alef with hamza or
madda -> bare alef, ta marbuta -> ha, alef maqsura -> ya, hamza on waw/ya -> waw/ya, and drops
tatweel and diacritics. A lone hamza (ء) is kept: it is a letter of its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.utils.translation import pgettext

from baladiya.core.money import ARABIC_DIGITS

_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": None,  # tatweel
    }
)
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_SPACES = re.compile(r"\s+")


def normalize_arabic(text: str) -> str:
    """Fold a name to its search form: `أحمدُ  الحمصيّة` -> `احمد الحمصيه`.

    Idempotent (the stored form normalizes to itself): dropping a mark can bring together
    characters that Unicode composes, so the result is put back in NFKC after folding.
    """
    text = unicodedata.normalize("NFKC", text or "")
    text = _DIACRITICS.sub("", text)
    text = text.translate(_FOLD).translate(ARABIC_DIGITS)
    text = unicodedata.normalize("NFKC", text.casefold())
    return _SPACES.sub(" ", text).strip()


def join_list(items: Iterable[object]) -> str:
    """The items joined with the current language's list separator: `، ` in Arabic (an SMS,
    a message, a page), `, ` in English."""
    return pgettext("list separator", ", ").join(str(item) for item in items)
