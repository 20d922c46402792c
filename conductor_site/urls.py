from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from conductor_site import views
from conductor_site.api import api_not_found, api_urls
from conductor_site.health import health
from conductor_site.login_throttle import ThrottledAuthenticationForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/", api_urls()),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("", include("llm.urls")),
    path("", include("agents.urls")),
    path("", include("artifacts.urls")),
]

handler500 = "conductor_site.outage.server_error"
