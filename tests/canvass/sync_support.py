"""Kept for tests/browser/test_app_screens.py, which imports PUSH, batch and knock
from here: the push payload builders live in tests/factories.py (push_item,
push_batch) and the `script` fixture in tests/canvass/conftest.py."""

from tests.factories import PULL, PUSH, iso
from tests.factories import push_batch as batch
from tests.factories import push_item as knock

__all__ = ["PULL", "PUSH", "batch", "iso", "knock"]
