"""Start-up helpers of `make run`: the first staff user and the Redis check."""

import pytest
from django.contrib.auth import get_user_model

from webapp.services import ServiceUnavailable, create_first_admin, ensure_redis, redis_answers

pytestmark = pytest.mark.django_db


def test_first_run_creates_a_staff_admin_with_a_random_password():
    username, password = create_first_admin()
    admin = get_user_model().objects.get(username=username)
    assert admin.is_staff and admin.check_password(password) and len(password) >= 12


def test_later_runs_create_no_user(owner):
    assert create_first_admin() is None


def test_a_remote_redis_that_does_not_answer_is_reported_clearly():
    assert not redis_answers("redis://192.0.2.1:1/0") or pytest.skip("unexpected host answers")
    with pytest.raises(ServiceUnavailable, match="No Redis answers"):
        ensure_redis("redis://192.0.2.1:1/0")


def test_the_configured_redis_answers(settings):
    assert "answers" in ensure_redis(settings.REDIS_URL)
