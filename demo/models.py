from django.db import models


class DemoState(models.Model):
    """When the demo was first loaded: every demo birth date counts back from this day, so a
    second run (even years later) recognises the same families instead of making new ones."""

    anchor_date = models.DateField()

    def __str__(self) -> str:
        return f"demo anchored at {self.anchor_date}"
