from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Anonymous users see only the login page and the health check (views marked
    ``@login_not_required``). The JSON API is left to DRF, which answers 401 instead of
    redirecting to the login page; its default permission is IsAuthenticated."""

    api_prefixes = ("/api/v1/", "/api/schema/")

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(self.api_prefixes):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
