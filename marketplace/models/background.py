"""Records the background work keeps so that it happens once: the scheduler's last enqueue of each periodic job,
and which holders were told of which need."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.models.demand import Need
from marketplace.parties.models import Organisation


class ScheduledJob(models.Model):
    """One periodic job of the scheduler (marketplace/scheduling/schedule.py names them). ``last_slot`` is the
    scheduled time of the last enqueue: a scheduler enqueues a job only by moving it forward in one conditional
    UPDATE, so two schedulers running side by side enqueue each slot once."""

    name = models.CharField(max_length=60, primary_key=True)
    last_slot = models.DateTimeField(null=True, blank=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled job")

    def __str__(self):
        return self.name


class NeedNotice(models.Model):
    """A holder was told of a need that its listings match (one notification per need and holder, not per
    listing). ``need_revision`` is the need's ``updated_at`` when told: an edited need is told again."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="holder_notices")
    holder = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="need_notices")
    need_revision = models.DateTimeField()
    told_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["need", "holder"], name="one_need_notice_per_holder")]

    def __str__(self):
        return f"need {self.need_id} → holder {self.holder_id}"
