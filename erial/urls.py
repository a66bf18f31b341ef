"""URL configuration: the home page and the back-office admin (the API arrives under /api/v1/)."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
]
