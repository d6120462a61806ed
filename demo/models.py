from django.db import models


class DemoState(models.Model):
    """When the demo was first loaded: every demo birth date counts back from this day, so a
    second run (even years later) recognises the same families instead of making new ones."""

    anchor_date = models.DateField()

    def __str__(self) -> str:
        return f"demo anchored at {self.anchor_date}"


class PopulationRun(models.Model):
    """The synthetic population this database holds (`manage.py generate_population`): its
    parameters, so a rerun continues the same population instead of mixing two, and the day
    its dates count back from."""

    seed = models.BigIntegerField()
    children = models.PositiveIntegerField()
    batch_size = models.PositiveIntegerField()
    anchor_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"population of {self.children} (seed {self.seed})"


class PopulationBatch(models.Model):
    """A finished batch of the synthetic population, written in the batch's own transaction:
    a batch is either here with all its rows or absent with none, so a rerun skips exactly
    the finished ones."""

    number = models.PositiveIntegerField(unique=True)
    children = models.PositiveIntegerField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"batch {self.number} ({self.children} children)"
