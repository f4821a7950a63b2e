"""Integration tests share one media folder with the real worker (see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def isolated_media_root(settings, live_media_root):
    settings.MEDIA_ROOT = live_media_root
