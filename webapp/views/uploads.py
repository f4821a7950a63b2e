"""The upload page and the resumable chunk protocol (documented in docs/UPLOAD.md).

POST   /uploads/              {"filename", "size", "head_sha256"?} -> 201 {"id", "offset": 0, ...}, or 200
                              {"resumed": true, "offset": N, ...} for the same file's unfinished upload
HEAD   /uploads/<id>/                                         -> 200, Upload-Offset / Upload-Length headers
GET    /uploads/<id>/                                         -> 200 {"offset", "status", "video", ...}
PATCH  /uploads/<id>/  Upload-Offset: N, body = bytes N..     -> 200 {"offset", "status", "video", ...}
DELETE /uploads/<id>/                                         -> 204 (abandons the upload)
"""

import errno
import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from webapp.access import visible_or_404
from webapp.models import Upload, UploadError
from webapp.models.videos import format_bytes

CHUNK_CONTENT_TYPES = {"application/offset+octet-stream", "application/octet-stream"}


def json_error(message: str, status: int, offset: int | None = None) -> JsonResponse:
    response = JsonResponse({"error": message, "offset": offset}, status=status)
    if offset is not None:
        response["Upload-Offset"] = str(offset)
    return response


def upload_json(upload: Upload, status: int = 200, resumed: bool = False) -> JsonResponse:
    response = JsonResponse({**upload.as_json(), "resumed": resumed}, status=status)
    response["Upload-Offset"] = str(upload.offset)
    response["Upload-Length"] = str(upload.size_bytes)
    response["Cache-Control"] = "no-store"
    return response


def own_upload_or_404(request, upload_id) -> Upload:
    """Uploads are private even from staff: only their owner may continue or read one."""
    uploads = Upload.objects.select_related("video")
    return visible_or_404(uploads, request.user, upload_id, "upload", lambda u, user: u.owner_id == user.pk)


@require_GET
def upload_page(request):
    unfinished = Upload.objects.filter(owner=request.user, status=Upload.Status.RECEIVING)[:50]
    context = {
        "unfinished": unfinished,
        "chunk_bytes": settings.UPLOAD_CHUNK_BYTES,
        "max_bytes": settings.MAX_UPLOAD_BYTES,
        "max_label": format_bytes(settings.MAX_UPLOAD_BYTES),
        "expire_days": settings.UPLOAD_EXPIRE_DAYS,
    }
    return render(request, "videos/upload.html", context)


def request_data(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise UploadError("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise UploadError("The request body must be a JSON object.")
        return data
    return request.POST.dict()


@require_http_methods(["GET", "POST"])
def upload_collection(request):
    """GET: the user's unfinished uploads. POST: begin an upload of ``filename`` with ``size`` bytes."""
    if request.method == "GET":
        uploads = Upload.objects.filter(owner=request.user, status=Upload.Status.RECEIVING)[:200]
        return JsonResponse({"uploads": [upload.as_json() for upload in uploads]})
    try:
        data = request_data(request)
        filename = str(data.get("filename") or "").strip()
        if not filename:
            raise UploadError("Send the file's name as 'filename'.")
        upload, resumed = Upload.resume_or_begin(
            request.user, filename, data.get("size"), data.get("head_sha256")
        )
    except UploadError as exc:
        return json_error(str(exc), exc.status)
    response = upload_json(upload, status=200 if resumed else 201, resumed=resumed)
    response["Location"] = f"/uploads/{upload.pk}/"
    return response


@require_http_methods(["HEAD", "GET", "PATCH", "DELETE"])
def upload_resource(request, upload_id):
    upload = own_upload_or_404(request, upload_id)
    if request.method == "PATCH":
        return receive_chunk(request, upload)
    if request.method == "DELETE":
        if upload.is_receiving:
            upload.discard()
        return HttpResponse(status=204)
    return upload_json(upload)


def declared_offset(request) -> int:
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
    except ValueError:
        raise UploadError("Send the chunk's position in the 'Upload-Offset' header.") from None
    if offset < 0:
        raise UploadError("Upload-Offset cannot be negative.")
    return offset


def declared_length(request) -> int | None:
    value = request.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None


def receive_chunk(request, upload: Upload) -> JsonResponse:
    """Append the request body at Upload-Offset; finishes the upload when the last byte arrives."""
    if request.content_type not in CHUNK_CONTENT_TYPES and declared_length(request):
        return json_error("Send chunks as 'application/offset+octet-stream'.", 415, upload.offset)
    if (declared_length(request) or 0) > settings.UPLOAD_MAX_CHUNK_BYTES:
        limit = format_bytes(settings.UPLOAD_MAX_CHUNK_BYTES)
        return json_error(
            f"Chunk too large: send at most {limit} per request (UPLOAD_MAX_CHUNK_BYTES).", 413, upload.offset
        )
    try:
        offset = declared_offset(request)
        if not upload.is_receiving:
            raise UploadError("This upload is already complete.", status=409, offset=upload.offset)
        if offset != upload.offset:
            raise UploadError(
                f"Offset mismatch: the server has {upload.offset} bytes; resume from there.",
                status=409, offset=upload.offset,
            )  # fmt: skip
        upload.append(offset, request, declared_length(request))
        if upload.offset == upload.size_bytes:
            upload.finish()
    except UploadError as exc:
        return json_error(str(exc), exc.status, exc.offset if exc.offset is not None else upload.offset)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        upload.refresh_from_db()
        return json_error(
            "The server's disk is full: the upload is paused until space is freed.", 507, upload.offset
        )
    return upload_json(upload)
