from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Liveness for load balancers and the tooling: the app answers and the database responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
