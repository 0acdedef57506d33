# Production image: build wheels in one stage, run as an unprivileged user in the next.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app app
COPY schema schema
COPY resolvers resolvers
COPY models models
COPY workers workers
COPY emails emails
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ENVIRONMENT=production
RUN useradd --system --create-home --uid 10001 portal
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER portal
WORKDIR /home/portal
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
# `portal migrate` runs once per release (see compose.yaml); the API itself never migrates.
CMD ["portal", "serve", "--host", "0.0.0.0", "--port", "8000"]
