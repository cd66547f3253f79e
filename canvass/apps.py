from django.apps import AppConfig


class CanvassConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "canvass"
    verbose_name = "Field work: campaigns, turfs, shifts and knocks"

    def ready(self) -> None:
        from canvass.door_merges import doors_merged
        from canvass.stats.queue import stats_enqueue_redistricted
        from turf.districting import on_doors_redistricted
        from turf.services import on_doors_merged

        # The stats count knocks by district: a re-districting queues their recompute.
        on_doors_redistricted(stats_enqueue_redistricted)
        # Doors that are one physical door are merged by turf; their knocks and
        # turf memberships are canvass' to move.
        on_doors_merged(doors_merged)
