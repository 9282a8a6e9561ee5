"""A one-file Django project for the compatibility suite.

Serve it with ``refweb web --wsgi django_app.application``.  On import it
configures Django (a SQLite database in $COMPAT_DJANGO_DB), runs the
migrations and makes a superuser admin/compat-secret, so the admin login
works against a fresh database.
"""

import hashlib
import os
import tempfile

import django
from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

settings.configure(
    DEBUG=False,
    SECRET_KEY="compat-suite-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": os.environ.get("COMPAT_DJANGO_DB")
                           or os.path.join(tempfile.mkdtemp(), "db.sqlite3")}},
    INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth",
                    "django.contrib.contenttypes", "django.contrib.sessions",
                    "django.contrib.messages"],
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages"]}}],
    DATA_UPLOAD_MAX_MEMORY_SIZE=None,
    USE_TZ=True,
)
django.setup()


def index(request):
    return HttpResponse("django says hello")


@csrf_exempt
def echo(request):
    data = request.body
    return JsonResponse({"length": len(data), "sha256": hashlib.sha256(data).hexdigest()})


@csrf_exempt
def upload(request):
    return JsonResponse({name: {"name": f.name, "length": len(f.read())}
                         for name, f in request.FILES.items()})


def stream(request):
    return StreamingHttpResponse("line %d\n" % i for i in range(5))


urlpatterns = [
    path("", index),
    path("echo", echo),
    path("upload", upload),
    path("stream", stream),
    path("admin/", admin.site.urls),
]


def _prepareDatabase():
    from django.contrib.auth.models import User
    from django.core.management import call_command
    call_command("migrate", verbosity=0, interactive=False)
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.com", "compat-secret")


_prepareDatabase()

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after setup)

application = get_wsgi_application()
