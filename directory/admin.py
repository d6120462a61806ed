"""Admin for the directory, for a regional administrator. Children are deliberately absent:
every read of a child goes through the audited views."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from .models import Membership, Organisation, Professional, Service, Team, TeamMember, Unit
from .resources import FORMATS, ServiceResource


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "code", "region"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "sector", "organisation", "municipality", "active"]
    list_filter = ["sector", "organisation", "municipality", "active"]
    search_fields = ["name", "hsa_id"]
    list_select_related = ["organisation", "municipality"]


@admin.register(Professional)
class ProfessionalAdmin(UserAdmin):
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Profession"), {"fields": ("profession", "title", "phone")}),
    )
    add_fieldsets = (
        *(UserAdmin.add_fieldsets or ()),
        (_("Profession"), {"fields": ("first_name", "last_name", "email", "profession")}),
    )
    list_display = ["username", "first_name", "last_name", "profession", "is_active"]
    list_filter = ["profession", "is_active", "is_staff"]
    inlines = [MembershipInline]


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    autocomplete_fields = ["professional", "unit"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "working_model", "municipality", "coordinator", "cadence"]
    list_filter = ["working_model", "municipality"]
    search_fields = ["name"]
    autocomplete_fields = ["coordinator"]
    inlines = [TeamMemberInline]


@admin.register(Service)
class ServiceAdmin(ImportExportModelAdmin):
    """The resource directory, with CSV/XLSX import (previewed as a dry run; a file with any
    bad row imports nothing) and export."""

    list_display = ["name", "kind", "provider", "municipality", "active"]
    list_filter = ["kind", "municipality", "active"]
    list_select_related = ["provider", "municipality"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["provider"]
    resource_classes = [ServiceResource]
    import_formats = list(FORMATS.values())
    export_formats = list(FORMATS.values())
    import_error_display = ("message", "row")

    # The library lets any staff user import and export unless told otherwise: importing
    # creates and changes services, exporting reads them.
    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["directory.add_service", "directory.change_service"])

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("directory.view_service")
