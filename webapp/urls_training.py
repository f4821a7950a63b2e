"""URLs of training and scoring (included from webapp.urls)."""

from django.urls import path

from webapp.views import scoring, training

urlpatterns = [
    path("categories/<int:category_id>/train/", training.train_start, name="train_start"),
    path("models/<int:model_id>/", training.model_detail, name="model_detail"),
    path("models/<int:model_id>/activate/", training.model_activate, name="model_activate"),
    path("models/<int:model_id>/threshold/", training.model_threshold, name="model_threshold"),
    path("runs/", scoring.run_list, name="run_list"),
    path("runs/start/", scoring.score_start, name="score_start"),
    path("runs/<int:run_id>/", scoring.run_detail, name="run_detail"),
]
