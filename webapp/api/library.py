"""API: videos, the resumable upload protocol, categories and reference clips (same rules as the pages)."""

import json
from uuid import UUID

from django.http import HttpResponse
from ninja import Query, Router, Status

from webapp.access import visible_or_404
from webapp.api.errors import ApiError, form_error
from webapp.api.paging import Page, paged
from webapp.api.schemas import (
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    ClipIn,
    ClipOut,
    ErrorOut,
    UploadIn,
    UploadOut,
    VideoOut,
)  # fmt: skip
from webapp.forms import CategoryForm, ClipForm
from webapp.models import Category, ReferenceClip, Upload, UploadError, Video
from webapp.views import uploads as upload_views

router = Router()
ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- videos ----------------------------------------------------------------------------------------------


@router.get("/videos", response={200: list[VideoOut], **ERRORS}, tags=["videos"])
def list_videos(request, response: HttpResponse, page: Query[Page]):
    """Newest first (the model's ordering), ``limit`` at a time: ``X-Total-Count`` and ``Link`` tell more."""
    return paged(request, response, Video.objects.visible_to(request.user), page)


@router.get("/videos/{video_id}", response={200: VideoOut, **ERRORS}, tags=["videos"])
def get_video(request, video_id: int):
    return visible_or_404(Video.objects.all(), request.user, video_id, "video")


@router.delete("/videos/{video_id}", response={204: None, **ERRORS}, tags=["videos"])
def delete_video(request, video_id: int):
    visible_or_404(Video.objects.all(), request.user, video_id, "video").delete()
    return Status(204, None)


# --- uploads (docs/UPLOAD.md: the same protocol as /uploads/) ----------------------------------------------


def own_upload(request, upload_id: UUID) -> Upload:
    """Uploads are private even from staff: only their owner may continue or read one."""
    queryset = Upload.objects.select_related("video")
    return visible_or_404(queryset, request.user, upload_id, "upload", lambda u, user: u.owner_id == user.pk)


@router.post("/uploads", response={201: UploadOut, 200: UploadOut, **ERRORS, 413: ErrorOut}, tags=["uploads"])
def begin_upload(request, body: UploadIn):
    """Begin an upload; with ``head_sha256`` (SHA-256 of the file's first MiB) the owner's unfinished upload
    of the same name, size and head is answered instead (200, ``resumed``): continue from its ``offset``."""
    try:
        upload, resumed = Upload.resume_or_begin(
            request.user, body.filename.strip(), body.size, body.head_sha256
        )
    except UploadError as exc:
        raise ApiError(exc.status, str(exc), loc=("body", exc.field) if exc.field else ("body",)) from exc
    return Status(200 if resumed else 201, {**upload.as_json(), "resumed": resumed})


@router.get("/uploads/{upload_id}", response={200: UploadOut, **ERRORS}, tags=["uploads"])
def get_upload(request, upload_id: UUID):
    return own_upload(request, upload_id).as_json()


CHUNK_BODY = {
    "parameters": [
        {"in": "header", "name": "Upload-Offset", "required": True, "schema": {"type": "integer"}}
    ],
    "requestBody": {
        "required": True,
        "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
}


@router.patch(
    "/uploads/{upload_id}",
    response={200: UploadOut, **ERRORS, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut, 507: ErrorOut},
    tags=["uploads"],
    openapi_extra=CHUNK_BODY,
)
def upload_chunk(request, upload_id: UUID):
    """Append the body at ``Upload-Offset`` (the page protocol's rules); the last chunk creates the video."""
    response = upload_views.receive_chunk(request, own_upload(request, upload_id))
    data = json.loads(response.content)
    if response.status_code >= 400:
        raise ApiError(response.status_code, str(data.get("error")), details={"offset": data.get("offset")})
    return data


@router.delete("/uploads/{upload_id}", response={204: None, **ERRORS}, tags=["uploads"])
def abandon_upload(request, upload_id: UUID):
    upload = own_upload(request, upload_id)
    if upload.is_receiving:
        upload.discard()
    return Status(204, None)


# --- categories and clips -----------------------------------------------------------------------------------


@router.get("/categories", response={200: list[CategoryOut], **ERRORS}, tags=["categories"])
def list_categories(request):
    return Category.objects.visible_to(request.user).order_by("name")


@router.post("/categories", response={201: CategoryOut, **ERRORS}, tags=["categories"])
def create_category(request, body: CategoryIn):
    form = CategoryForm(body.dict(), owner=request.user)
    if not form.is_valid():
        raise form_error(form)
    return Status(201, form.save())


@router.get("/categories/{category_id}", response={200: CategoryOut, **ERRORS}, tags=["categories"])
def get_category(request, category_id: int):
    return visible_or_404(Category.objects.all(), request.user, category_id, "category")


@router.patch("/categories/{category_id}", response={200: CategoryOut, **ERRORS}, tags=["categories"])
def update_category(request, category_id: int, body: CategoryPatch):
    category = visible_or_404(Category.objects.all(), request.user, category_id, "category")
    current = {"name": category.name, "description": category.description, "colour": category.colour}
    changes = {k: v for k, v in body.dict().items() if v is not None}
    form = CategoryForm({**current, **changes}, instance=category)
    if not form.is_valid():
        raise form_error(form)
    return form.save()


@router.delete("/categories/{category_id}", response={204: None, **ERRORS}, tags=["categories"])
def delete_category(request, category_id: int):
    visible_or_404(Category.objects.all(), request.user, category_id, "category").delete()
    return Status(204, None)


@router.get("/categories/{category_id}/clips", response={200: list[ClipOut], **ERRORS}, tags=["categories"])
def list_clips(request, category_id: int):
    category = visible_or_404(Category.objects.all(), request.user, category_id, "category")
    return category.clips.order_by("pk")


@router.post("/categories/{category_id}/clips", response={201: ClipOut, **ERRORS}, tags=["categories"])
def create_clip(request, category_id: int, body: ClipIn):
    category = visible_or_404(Category.objects.all(), request.user, category_id, "category")
    data = {**body.dict(), "category": category.pk, "video": body.video_id}
    data = {k: v for k, v in data.items() if v is not None}
    form = ClipForm(data, owner=category.owner)
    if not form.is_valid():
        raise form_error(form, {"video": ("body", "video_id"), "category": ("path", "category_id")})
    form.clip.save()
    return Status(201, form.clip)


@router.delete("/clips/{clip_id}", response={204: None, **ERRORS}, tags=["categories"])
def delete_clip(request, clip_id: int):
    clips = ReferenceClip.objects.select_related("category")
    clip = visible_or_404(clips, request.user, clip_id, "clip", lambda c, u: c.category.is_visible_to(u))
    clip.delete()
    return Status(204, None)
