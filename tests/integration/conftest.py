"""Integration tests share one media folder with the real worker (see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def isolated_media_root(settings, live_media_root):
    settings.MEDIA_ROOT = live_media_root


@pytest.fixture
async def closes_thread_connections():
    """Async tests query the database from asgiref's worker thread; close that thread's connection after the
    test, or PostgreSQL refuses to drop the test database while it is still open."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    yield
    await sync_to_async(connections.close_all)()
