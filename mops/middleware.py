from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Anonymous users see only the login page and the health check (views marked
    ``@login_not_required``). The JSON API is left to DRF, which answers 401 instead of
    redirecting to the login page; its default permission is IsAuthenticated."""

    api_prefixes = ("/api/v1/", "/api/schema/")

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(self.api_prefixes):
            return None
        # Open views before ``request.user`` (Django asks the other way round): the health check must not
        # need the session store, or a client sending a session cookie gets the 503 page, not the report.
        if not getattr(view_func, "login_required", True):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class ContentSecurityPolicyMiddleware:
    """Every response says where its scripts, styles and images may come from: our own origin only.
    Pages carry no inline scripts (figures are JSON drawn by a static script), so ``script-src
    'self'`` holds; plotly.js sets inline styles on the charts it draws, hence ``'unsafe-inline'``
    for styles only. A response that sets its own policy (attachments: ``sandbox``) keeps it."""

    POLICY = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response
