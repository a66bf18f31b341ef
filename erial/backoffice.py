"""What every finance back-office page of the admin shares: who may see it, labels in the reader's language,
and service refusals shown as admin messages.

Model permissions alone are not enough: a staff user handed ``view_*`` by mistake is still not finance. So a
back-office page needs both the role (finance or admin, ``erial.roles``) and Django's model permission,
which the finance and admin groups receive in ``erial/migrations/0002_back_office_permissions.py``.
Labels are given here, not on the models, so the back office speaks Arabic without a schema migration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_field
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .roles import Role, has_role

#: The roles whose staff use the finance back office.
BACK_OFFICE_ROLES = (Role.FINANCE, Role.ADMIN)


def is_back_office(user: Any) -> bool:
    """Active staff holding the finance or admin role (superusers are admins)."""
    return bool(user and user.is_active and user.is_staff and has_role(user, *BACK_OFFICE_ROLES))


def column(name: str, label: Promise, *, choices: Mapping[str, Promise] | None = None) -> Callable[[Model], Any]:
    """A list column showing field ``name`` under a translated header; ``choices`` translate its values."""

    def show(obj: Model) -> Any:
        value = getattr(obj, name)
        if choices is not None:
            return choices.get(value, value)
        return display_for_field(value, obj._meta.get_field(name), "-")

    show.short_description = label  # type: ignore[attr-defined]
    show.admin_order_field = name  # type: ignore[attr-defined]
    show.__name__ = name
    return show


def choice_filter(name: str, title: Promise, choices: Mapping[str, Promise]) -> type[admin.SimpleListFilter]:
    """A list filter on field ``name`` whose title and choices are translated."""

    class ChoiceFilter(admin.SimpleListFilter):
        parameter_name = name

        def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Iterable[tuple[str, Promise]]:
            return list(choices.items())

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            value = self.value()
            return queryset.filter(**{name: value}) if value in choices else queryset

    ChoiceFilter.title = title
    ChoiceFilter.__name__ = f"{name.title()}Filter"
    return ChoiceFilter


class BackOfficeRoleRequired:
    """Mixed into a ModelAdmin whose own rules stand (read-only, add-only, history pages): every permission
    also needs the back-office role, so a staff login handed a model permission by mistake still sees nothing."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_back_office(request.user) and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_back_office(request.user) and super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_back_office(request.user) and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_back_office(request.user) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_back_office(request.user) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class BackOfficeAdmin(BackOfficeRoleRequired, admin.ModelAdmin):
    """Finance and admin staff only; read-only unless a subclass says otherwise.

    ``labels`` (field name -> translated label) name the fields on the detail page, read-only or not.
    """

    labels: Mapping[str, Promise] = {}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any):
        # Read-only fields take their label from the form's Meta.labels too (AdminReadonlyField).
        kwargs.setdefault("labels", dict(self.labels))
        return super().get_form(request, obj, change, **kwargs)

    def refused(self, request: HttpRequest, error: DomainError, prefix: str = "") -> None:
        """A service's refusal, in its own words, as an error message at the top of the page."""
        self.message_user(request, f"{prefix}{error.detail}", messages.ERROR)

    def through_service(
        self,
        request: HttpRequest,
        rows: Iterable[Any],
        act: Callable[[Any], object],
        *,
        prefix: Callable[[Any], str] = lambda row: "",
    ) -> int:
        """An admin action's rows, each through ``act`` (a service call): a refusal is shown in the service's
        words (after ``prefix(row)``) and the other rows proceed. Returns how many went through."""
        done = 0
        for row in rows:
            try:
                act(row)
            except DomainError as error:
                self.refused(request, error, prefix=prefix(row))
            else:
                done += 1
        return done


class EditableBackOfficeAdmin(BackOfficeAdmin):
    """Back-office pages that add or change rows: Django's model permissions decide, within the role (the
    mixin's rule, past ``BackOfficeAdmin``'s read-only one)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return BackOfficeRoleRequired.has_add_permission(self, request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return BackOfficeRoleRequired.has_change_permission(self, request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return BackOfficeRoleRequired.has_delete_permission(self, request, obj)


# The admin is the municipality's back office, not "Django administration", in either language.
admin.site.site_header = _("e-Rial back office")
admin.site.site_title = _("e-Rial back office")
admin.site.index_title = _("Finance and administration")
