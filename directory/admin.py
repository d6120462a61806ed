"""Admin for the directory, for a regional administrator. Children are deliberately absent:
every read of a child goes through the audited views."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Membership, Organisation, Professional, Service, Team, TeamMember, Unit


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
        *UserAdmin.fieldsets,
        (_("Profession"), {"fields": ("profession", "title", "phone")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
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
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "provider", "municipality", "active"]
    list_filter = ["kind", "municipality", "active"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["provider"]
