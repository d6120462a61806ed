"""Admin for BarnSäkert, for a regional administrator: each region's occasions and settings,
and the questionnaires. Questionnaire texts come from versioned files (`load_questionnaire`),
so the admin shows them but never edits them; a draft version can be published here.
Answers are deliberately absent: they are read only through the audited views."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import (
    Item,
    ItemText,
    Occasion,
    Questionnaire,
    QuestionnaireVersion,
    RegionScreeningSettings,
)
from .questionnaire_files import version_publish


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class VersionInline(ReadOnlyInline):
    model = QuestionnaireVersion
    readonly_fields = ("version", "label", "is_example", "published_at", "checksum")
    fields = readonly_fields
    show_change_link = True


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    readonly_fields = ["code"]
    inlines = [VersionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # questionnaires come from files: manage.py load_questionnaire

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ItemInline(ReadOnlyInline):
    model = Item
    readonly_fields = ("number", "domain", "options", "positive", "guidance_sv")
    fields = readonly_fields
    show_change_link = True


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(admin.ModelAdmin):
    list_display = ["questionnaire", "version", "label", "is_example", "published_at"]
    list_filter = ["questionnaire", "is_example"]
    list_select_related = ["questionnaire"]
    readonly_fields = [
        "questionnaire",
        "version",
        "label",
        "is_example",
        "source_file",
        "checksum",
        "published_at",
        "ui_texts",
    ]
    inlines = [ItemInline]
    actions = ["publish"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from files: manage.py load_questionnaire

    def has_change_permission(
        self, request: HttpRequest, obj: QuestionnaireVersion | None = None
    ) -> bool:
        # A published version never changes; its page is read-only.
        if obj is not None and obj.published_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: QuestionnaireVersion | None = None
    ) -> bool:
        return False

    @admin.action(description=_("Publish the selected draft versions"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[QuestionnaireVersion]) -> None:
        drafts = list(queryset.filter(published_at__isnull=True))
        for version in drafts:
            version_publish(version)
        self.message_user(
            request,
            ngettext(
                "%(count)d version published; it can no longer change.",
                "%(count)d versions published; they can no longer change.",
                len(drafts),
            )
            % {"count": len(drafts)},
            messages.SUCCESS,
        )


class ItemTextInline(ReadOnlyInline):
    model = ItemText
    readonly_fields = ("language", "status", "text", "option_labels")
    fields = readonly_fields


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    """Reached from its version's page; shows the item in every language."""

    list_display = ["version", "number", "domain"]
    list_filter = ["version", "domain"]
    list_select_related = ["version__questionnaire"]
    readonly_fields = [
        "version",
        "number",
        "domain",
        "options",
        "positive",
        "guidance_sv",
        "guidance_en",
    ]
    inlines = [ItemTextInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Occasion)
class OccasionAdmin(admin.ModelAdmin):
    list_display = ["region", "order", "name_sv", "name_en", "min_age_days", "max_age_days"]
    list_display_links = ["name_sv"]
    list_filter = ["region"]
    list_select_related = ["region"]
    ordering = ["region__name", "order"]


@admin.register(RegionScreeningSettings)
class RegionScreeningSettingsAdmin(admin.ModelAdmin):
    list_display = ["region", "version_in_use", "hide_unreviewed_translations", "code_minutes"]
    list_select_related = ["region", "version_in_use__questionnaire"]
