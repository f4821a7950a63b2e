"""The one rule for reaching a row by id: its owner and staff see it; for everyone else it does not exist."""

from django.http import Http404


def visible_or_404(queryset, user, pk, what: str, visible=None):
    """The row ``pk`` of ``queryset`` if ``user`` may see it, else ``Http404("No such <what>.")``. A missing
    row and another user's row answer alike, on the pages and in the API, so an id tells nothing about whether
    it exists. ``visible(item, user)`` replaces the row's own ``is_visible_to`` (uploads are their owner's
    only, clips follow their category)."""
    try:
        item = queryset.filter(pk=pk).first()
    except (ValueError, TypeError):  # an id that is no id at all (pages take path segments as they come)
        item = None
    if item is None or not (visible(item, user) if visible else item.is_visible_to(user)):
        raise Http404(f"No such {what}.")
    return item
