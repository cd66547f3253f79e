"""Background tasks of the core app (django-q2; scheduled by manage.py setup_schedules)."""

from __future__ import annotations

import logging

from fieldops.changelog import sync_changes_prune

logger = logging.getLogger(__name__)


def sync_log_prune() -> int:
    """Daily: drop change-log entries older than SYNC_LOG_KEEP_DAYS (docs/sync-protocol.md, "Pruning")."""
    deleted = sync_changes_prune()
    logger.info("sync log pruned", extra={"deleted": deleted})
    return deleted
