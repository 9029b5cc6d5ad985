"""django-auditlog's middleware (the signed-in user as the actor of every change a request makes) plus the
request itself as the source, so an entry says which page or endpoint made the change."""

from auditlog.middleware import AuditlogMiddleware

from marketplace.parties.acting import acting_as


class AuditMiddleware(AuditlogMiddleware):
    def __call__(self, request):
        with acting_as(f"{request.method} {request.path}"):
            return super().__call__(request)
