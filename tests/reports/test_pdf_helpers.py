"""The shared PDF helpers: Arabic shaped and right to left, brackets mirrored, wrapping on logical text,
amounts and Muscat time as printed."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

from reports.pdf import REGULAR, amount_ar, amount_en, format_moment, text_width, visual, wrap


def letters(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def test_arabic_is_joined_and_reversed_for_drawing_latin_is_untouched():
    shown = visual("رقم الإيصال")
    assert shown != "رقم الإيصال" and all("\ufb50" <= ch <= "\ufeff" or ch == " " for ch in shown)  # joined forms
    assert letters(shown[::-1]) == "رقم الإيصال"  # glyphs right to left; lam-alef is one glyph, two letters
    assert visual("Receipt no. (R1)") == "Receipt no. (R1)"


def test_brackets_are_mirrored_and_numbers_keep_their_order_in_arabic():
    shown = visual("التاريخ والوقت (مسقط)")
    assert shown.startswith("(") and ")" in shown and shown.index("(") < shown.index(")")  # "(مسقط)" on the left
    assert visual(amount_ar("12.5"), rtl=True) == visual("ر.ع.", rtl=True) + " 12.500"  # amount read first
    assert "117" in visual("التظلم رقم 117 لسنة 2025") and "2025" in visual("التظلم رقم 117 لسنة 2025")


def test_wrapping_happens_on_the_logical_text_so_the_first_words_stay_on_the_first_line():
    sentence = "ألغيت المخالفة من قبل إدارة المرور بعد التظلم رقم 117 لسنة 2025"
    lines = wrap(sentence, REGULAR, 9, 120)
    assert len(lines) > 1 and " ".join(lines) == sentence
    assert lines[0].startswith("ألغيت") and lines[-1].endswith("2025")
    assert all(text_width(line, REGULAR, 9) <= 120 for line in lines)


def test_a_word_longer_than_the_line_is_cut_not_overflowing():
    url = "http://erial.example.om/verify/receipt/R12345678903/ABCDEFGHIJ/"
    lines = wrap(url, REGULAR, 6, 100)
    assert "".join(lines) == url and all(text_width(line, REGULAR, 6) <= 100 for line in lines)


def test_amounts_have_three_decimals_in_both_languages():
    assert amount_en(Decimal("12.5")) == "12.500 OMR"
    assert amount_en("0.1") == "0.100 OMR"
    assert amount_ar("1250.6") == "1250.600 ر.ع."


def test_times_are_shown_in_muscat_whatever_the_zone_they_come_in():
    moment = dt.datetime(2025, 11, 24, 21, 30, tzinfo=dt.UTC)
    assert format_moment(moment) == "2025-11-25 01:30"  # UTC+4: already the next business day in Muscat
