from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = _("Screening (BarnSäkert)")

    def ready(self) -> None:
        from . import items  # noqa: F401 -- connects the signals that empty its copy
