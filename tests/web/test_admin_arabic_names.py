"""The back office names its apps and models in the reader's language: on the admin index, in breadcrumbs and
in page titles, Arabic when the page is in Arabic and English when it is in English.
"""

from __future__ import annotations

import pytest

from erial.roles import Role
from tests.web.test_finance_admin import staff

pytestmark = pytest.mark.django_db

#: (English, Arabic) app and model names on the index a finance officer sees: a few of each app's.
FINANCE_INDEX = [
    ("Agent network", "شبكة الوكلاء"),
    ("Offices", "المكاتب"),
    ("Cashier sessions", "جلسات أمناء الصندوق"),
    ("Cash top-ups", "عمليات الشحن النقدي"),
    ("Commission rules", "قواعد العمولة"),
    ("Online top-ups", "عمليات الشحن الإلكتروني"),
    ("Rejected callbacks", "إشعارات الشركاء المرفوضة"),
    ("Settlements and reconciliation", "التسويات والمطابقة"),
    ("Statement files", "ملفات الكشوف"),
    ("Gateway batches", "دفعات البوابة"),
    ("Reconciliation runs", "عمليات المطابقة"),
    ("Reconciliation exceptions", "استثناءات التسوية"),
]
#: The ledger's pages are an administrator's (superuser's): finance does not see them.
LEDGER_INDEX = [
    ("Ledger", "دفتر الأستاذ"),
    ("Accounts", "الحسابات"),
    ("Entries", "القيود"),
    ("Wallets", "المحافظ"),
    ("Fee rates", "رسوم الخدمة"),
    ("Fee payments", "مدفوعات الرسوم"),
]


@pytest.fixture
def finance(client):
    client.force_login(staff(Role.FINANCE))
    return client


@pytest.fixture
def administrator(client):
    client.force_login(staff(Role.ADMIN, superuser=True))
    return client


def index(client, language: str) -> str:
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize(("who", "names"), [("finance", FINANCE_INDEX), ("administrator", LEDGER_INDEX)])
def test_the_index_names_apps_and_models_in_arabic(request, who, names):
    client = request.getfixturevalue(who)
    arabic = index(client, "ar")
    for english_name, arabic_name in names:
        assert arabic_name in arabic, arabic_name
        assert english_name not in arabic, english_name


@pytest.mark.parametrize(("who", "names"), [("finance", FINANCE_INDEX), ("administrator", LEDGER_INDEX)])
def test_the_index_still_names_them_in_english(request, who, names):
    client = request.getfixturevalue(who)
    english = index(client, "en")
    for english_name, arabic_name in names:
        assert english_name in english, english_name
        assert arabic_name not in english, arabic_name


def test_a_list_is_titled_and_placed_in_arabic(finance):
    page = finance.get("/admin/agents/cashtopup/", HTTP_ACCEPT_LANGUAGE="ar")
    assert page.status_code == 200
    # finance may only view top-ups: "Select cash top-up to view", under the app's and the list's names
    assert "اختر شحن نقدي للاستعراض" in page.text
    assert "شبكة الوكلاء" in page.text and "عمليات الشحن النقدي" in page.text
    assert "cash top-up" not in page.text.lower() and "Agent network" not in page.text


def test_the_add_page_of_a_limit_is_titled_in_arabic(finance):
    page = finance.get("/admin/agents/limit/add/", HTTP_ACCEPT_LANGUAGE="ar")
    assert page.status_code == 200
    assert "<title>إضافة حد |" in page.text and "<h1>إضافة حد</h1>" in page.text
    assert "شبكة الوكلاء" in page.text and "الحدود" in page.text  # the breadcrumbs
    assert "Add limit" not in page.text and "Limits" not in page.text and "Agent network" not in page.text
    english = finance.get("/admin/agents/limit/add/", HTTP_ACCEPT_LANGUAGE="en")
    assert "<h1>Add limit</h1>" in english.text and "إضافة حد" not in english.text


def test_the_schedule_of_the_nightly_job_is_named_in_arabic_too(administrator):
    """django-celery-beat ships no Arabic; the project's catalogue names its pages."""
    arabic = index(administrator, "ar")
    for english_name, arabic_name in [("Periodic Tasks", "المهام المجدولة"), ("Crontabs", "جداول كرون")]:
        assert arabic_name in arabic and english_name not in arabic, english_name
    english = index(administrator, "en")
    assert "Periodic Tasks" in english and "Crontabs" in english
