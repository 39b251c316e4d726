# The mops image for docker-compose.yml: gunicorn web, Celery worker and beat share it.
FROM node:20-slim AS assets
WORKDIR /assets
RUN npm pack bootstrap@5.3.8 && tar -xzf bootstrap-5.3.8.tgz

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The app's requirements only: the test and lint tools (requirements-dev.txt) stay out of the image.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=assets /assets/package/dist/css/ static/vendor/bootstrap/css/
COPY --from=assets /assets/package/dist/js/ static/vendor/bootstrap/js/
RUN mkdir -p static/vendor/plotly \
 && cp "$(python -c 'import plotly, pathlib; print(pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js")')" static/vendor/plotly/ \
 && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0 \
 && useradd --system --home /app mops && mkdir -p /app/var/media && chown -R mops /app/var
USER mops
EXPOSE 8000
CMD ["gunicorn", "mops.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
