from django.contrib import admin
from django.urls import path

from webapp.views import auth, jobs

urlpatterns = [
    path("", jobs.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("jobs/", jobs.job_list, name="job_list"),
    path("jobs/system-check/", jobs.start_system_check, name="start_system_check"),
    path("jobs/<int:job_id>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<int:job_id>/retry/", jobs.job_retry, name="job_retry"),
    path("admin/", admin.site.urls),
]
