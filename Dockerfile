# kubesift model server: `kubesift serve` (KServe SDK model server) as a custom KServe predictor.
#
#   docker build -t kubesift-serve .                               # mount models at run time
#   docker build --build-arg MODELS=data/models -t kubesift-serve .  # bake $KUBESIFT_HOME/models in
#   docker run -p 8080:8080 -v $PWD/data/models:/var/lib/kubesift/models:ro kubesift-serve
#
# Without a model the server starts, answers liveness and reports not ready (503)
# until one appears under /var/lib/kubesift/models (it follows production.json).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KUBESIFT_HOME=/var/lib/kubesift

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[serve,postgres]" \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /var/lib/kubesift kubesift \
    && mkdir -p /var/lib/kubesift/models \
    && chown -R 10001:10001 /var/lib/kubesift

# A directory of model versions (what `kubesift train` writes under $KUBESIFT_HOME/models).
ARG MODELS=deploy/models
COPY --chown=10001:10001 ${MODELS} /var/lib/kubesift/models

USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["kubesift", "serve"]
CMD ["--port", "8080", "--name", "kubernetes-analysis"]
