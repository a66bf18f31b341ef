"""The customer portal's pages, mounted at /portal/ (names: ``portal:...``)."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import set_language

from . import views
from .forms import LoginForm

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("pay/", views.pay, name="pay"),
    path("register/", views.register, name="register"),
    path("activate/", views.activate, name="activate"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="ledger/portal/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="portal:login"), name="logout"),
    # Django's own switch: POST language=ar|en (and next=), remembered in a cookie read by LocaleMiddleware.
    path("language/", set_language, name="set_language"),
]
