# syntax=docker/dockerfile:1
# LeadNexus production image: gunicorn serving leadnexus.wsgi, static files by WhiteNoise.
# The same image runs the Celery worker and beat (docker-compose.yml overrides the command).
FROM python:3.11-slim

ENV DEBUG=false \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN groupadd --system app \
    && useradd --system --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app

# Runtime dependencies only (wheels exist for every pinned package: no compiler needed).
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The code stays owned by root: the app user can read it, not change it.
COPY . .

# Hashed, compressed static files for WhiteNoise. The key exists only for this command.
RUN SECRET_KEY=collectstatic-at-build-time-only-not-a-real-secret-key-0123456789 \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown app:app /app/var

USER app

# Defaults, each overridable at run time (`docker run -e`, compose `environment:`).
ENV PORT=8000 \
    WEB_CONCURRENCY=3 \
    GUNICORN_THREADS=4 \
    GUNICORN_TIMEOUT=60 \
    GUNICORN_GRACEFUL_TIMEOUT=30 \
    GUNICORN_KEEPALIVE=5 \
    GUNICORN_MAX_REQUESTS=1000 \
    FORWARDED_ALLOW_IPS=* \
    MIGRATE_ON_START=false \
    PROMETHEUS_MULTIPROC_DIR=/tmp/leadnexus-metrics

EXPOSE 8000

# /healthz answers any Host header over plain HTTP.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

# Gunicorn with the access log on stdout; MIGRATE_ON_START=true runs migrations first. The
# workers' /metrics files start afresh with each start.
CMD ["sh", "-c", "if [ \"$MIGRATE_ON_START\" = true ]; then python manage.py migrate --noinput || exit 1; fi; rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" || exit 1; exec gunicorn leadnexus.wsgi:application --bind \"0.0.0.0:$PORT\" --workers \"$WEB_CONCURRENCY\" --threads \"$GUNICORN_THREADS\" --timeout \"$GUNICORN_TIMEOUT\" --graceful-timeout \"$GUNICORN_GRACEFUL_TIMEOUT\" --keep-alive \"$GUNICORN_KEEPALIVE\" --max-requests \"$GUNICORN_MAX_REQUESTS\" --max-requests-jitter 100 --worker-tmp-dir /dev/shm --no-control-socket --access-logfile - --error-logfile -"]
