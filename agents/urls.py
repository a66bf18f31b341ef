"""The counter's pages, mounted at /counter/ (names: ``counter:...``).

The receipt PDFs the counter prints are served by reports (``counter-receipt-pdf``, see reports/counter.py):
agents may not import reports (design §2), so the pages link to them by URL name.
"""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import set_language

from . import views
from .forms import CounterLoginForm

app_name = "counter"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="agents/counter/login.html",
            authentication_form=CounterLoginForm,
            redirect_authenticated_user=True,
            next_page="counter:home",
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="counter:login"), name="logout"),
    path("language/", set_language, name="set_language"),
    path("session/", views.session_page, name="session"),
    path("session/open/", views.open_session, name="open_session"),
    path("session/<uuid:session_id>/close/", views.close_session, name="close_session"),
    path("session/<uuid:session_id>/", views.session_closed, name="session_closed"),
    path("wallet/<str:number>/", views.topup_amount, name="topup_amount"),
    path("wallet/<str:number>/confirm/", views.topup_confirm, name="topup_confirm"),
    path("topup/<uuid:topup_id>/", views.topup_detail, name="topup"),
    path("topup/<uuid:topup_id>/void/", views.void_topup, name="void"),
    path("receipts/", views.receipt_lookup, name="receipts"),
]
