from django.contrib import admin
from django.urls import include, path

from webapp.api import urlpatterns as api_urlpatterns
from webapp.views import auth, categories, jobs, uploads, videos

urlpatterns = [
    path("", jobs.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("favicon.ico", auth.favicon, name="favicon"),
    path("jobs/", jobs.job_list, name="job_list"),
    path("jobs/system-check/", jobs.start_system_check, name="start_system_check"),
    path("jobs/<int:job_id>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<int:job_id>/retry/", jobs.job_retry, name="job_retry"),
    path("videos/", videos.video_list, name="video_list"),
    path("videos/upload/", uploads.upload_page, name="upload_page"),
    path("videos/<int:video_id>/", videos.video_detail, name="video_detail"),
    path("videos/<int:video_id>/delete/", videos.video_delete, name="video_delete"),
    path("videos/<int:video_id>/rename/", videos.video_rename, name="video_rename"),
    path("videos/<int:video_id>/reprobe/", videos.video_reprobe, name="video_reprobe"),
    path("videos/<int:video_id>/file/", videos.video_file, name="video_file"),
    path("videos/<int:video_id>/poster.jpg", videos.video_poster, name="video_poster"),
    path("videos/<int:video_id>/strip.jpg", videos.video_strip, name="video_strip"),
    path("videos/<int:video_id>/frames/<int:t_ms>.jpg", videos.video_frame, name="video_frame"),
    path("uploads/", uploads.upload_collection, name="upload_collection"),
    path("uploads/<uuid:upload_id>/", uploads.upload_resource, name="upload_resource"),
    path("categories/", categories.category_list, name="category_list"),
    path("categories/<int:category_id>/", categories.category_detail, name="category_detail"),
    path("categories/<int:category_id>/delete/", categories.category_delete, name="category_delete"),
    path("categories/<int:category_id>/frames/", categories.category_frames, name="category_frames"),
    path("clips/", categories.clip_create, name="clip_create"),
    path("clips/<int:clip_id>/delete/", categories.clip_delete, name="clip_delete"),
    path("clips/<int:clip_id>/negative/", categories.clip_toggle_negative, name="clip_toggle_negative"),
    path("", include("webapp.urls_training")),
    path("", include("webapp.urls_reports")),
    path("admin/", admin.site.urls),
    path("api/", include((api_urlpatterns(), "api"), namespace="api")),
]
