"""Pages: login everywhere, ownership of jobs, staff-only admin, CSRF."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from webapp.models import Job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["home", "job_list"])
def test_pages_redirect_anonymous_visitors_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_is_open_and_logs_in(client, owner):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "olivia", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    assert "Welcome, olivia" in client.get(reverse("home")).content.decode()


def test_wrong_password_shows_an_error(client, owner):
    response = client.post(reverse("login"), {"username": "olivia", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_home_lists_only_the_users_own_jobs(owner_client, owner, other_user):
    Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner, title="mine")
    Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=other_user, title="theirs")
    page = owner_client.get(reverse("home")).content.decode()
    assert "mine" in page and "theirs" not in page


def test_job_tables_say_how_long_ago_in_words(owner_client, owner):
    Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner, title="new")
    old = Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner, title="old")
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=3, seconds=5))
    page = owner_client.get(reverse("job_list")).content.decode()
    assert "just now" in page and "3\xa0minutes ago" in page and "0\xa0minutes" not in page


def test_staff_see_every_job(client, staff, owner):
    Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner, title="olivia's job")
    client.force_login(staff)
    assert "olivia&#x27;s job" in client.get(reverse("job_list")).content.decode()


def test_another_users_job_is_not_found(client, owner, other_user):
    job = Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner)
    client.force_login(other_user)
    assert client.get(reverse("job_detail", args=[job.pk])).status_code == 404
    assert client.post(reverse("job_cancel", args=[job.pk])).status_code == 404


def test_job_list_filters_by_status(owner_client, owner):
    Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner, title="done-job", status="succeeded")
    Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner, title="broken-job", status="failed")
    page = owner_client.get(reverse("job_list"), {"status": "failed"}).content.decode()
    assert "broken-job" in page and "done-job" not in page


def test_cancel_requires_a_csrf_token(owner):
    job = Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(reverse("job_cancel", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == "queued"


def test_cancel_of_a_queued_job_from_the_page(owner_client, owner):
    job = Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner)
    response = owner_client.post(reverse("job_cancel", args=[job.pk]), {"next": "//evil.example/"})
    assert response.status_code == 302 and response.url == reverse("job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_admin_is_refused_to_non_staff(owner_client):
    response = owner_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_admin_opens_for_staff(client, staff):
    client.force_login(staff)
    assert client.get("/admin/webapp/job/").status_code == 200


def test_plotly_is_served_from_our_own_static_files(owner_client):
    response = owner_client.get("/static/plotly/plotly.min.js")
    assert response.status_code == 200


def test_the_favicon_is_served_to_everyone(client):
    page = client.get(reverse("login")).content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg"' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url == "/static/img/favicon.svg"
    icon = client.get(response.url)
    assert icon.status_code == 200 and b"<svg" in b"".join(icon.streaming_content)
