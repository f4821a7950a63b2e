"""Login and logout use Django's auth views; the login page (and the icon it shows in the tab) is the only
thing open to anonymous users."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.views.generic import RedirectView

login_view = auth_views.LoginView.as_view(
    template_name="registration/login.html", redirect_authenticated_user=True
)
logout_view = auth_views.LogoutView.as_view()

# Browsers ask for /favicon.ico on pages without an icon link (the admin's, plain error pages).
favicon = login_not_required(RedirectView.as_view(url=static("img/favicon.svg"), permanent=True))
