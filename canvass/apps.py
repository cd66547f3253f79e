from django.apps import AppConfig


class CanvassConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "canvass"
    verbose_name = "Field work: campaigns, turfs, shifts and knocks"

    def ready(self) -> None:
        from canvass.stats.queue import stats_enqueue_redistricted
        from turf.districting import on_doors_redistricted

        # The stats count knocks by district: a re-districting queues their recompute.
        on_doors_redistricted(stats_enqueue_redistricted)
