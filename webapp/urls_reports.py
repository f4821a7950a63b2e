"""URLs of the interactive reports (included from webapp.urls)."""

from django.urls import path

from webapp.views import report_jobs, reports

urlpatterns = [
    path("runs/<int:run_id>/report/", reports.video_report, name="video_report"),
    path("runs/<int:run_id>/report/data.json", reports.video_report_data, name="video_report_data"),
    path("runs/<int:run_id>/segments.<str:fmt>", reports.segments_export, name="segments_export"),
    path("runs/<int:run_id>/frames/<int:index>/", reports.frame_info, name="frame_info"),
    path("runs/<int:run_id>/frames/<int:index>/<str:kind>.png", reports.frame_image, name="frame_image"),
    path(
        "runs/<int:run_id>/frames/<int:index>/occlusion/", report_jobs.start_occlusion, name="start_occlusion"
    ),
    path("runs/<int:run_id>/review/", report_jobs.run_review, name="run_review"),
    path("runs/<int:run_id>/learn/", report_jobs.learn, name="run_learn"),
    path("runs/<int:run_id>/render/", report_jobs.start_render, name="start_render"),
    path("runs/<int:run_id>/renders/<int:job_id>.mp4", report_jobs.render_download, name="render_download"),
    path("models/<int:model_id>/report/", reports.model_report, name="model_report"),
    path("models/<int:model_id>/report/<str:grid>.png", reports.model_grid, name="model_grid"),
    path("reports/categories/", reports.category_overview, name="category_overview"),
]
