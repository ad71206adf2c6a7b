# syntax=docker/dockerfile:1
# patchlevel as a container image, for in-cluster runs (deploy/cronjob.yaml, deploy/exporter.yaml,
# deploy/ledger/*.yaml).
#
#   docker build -t ghcr.io/patchlevel/patchlevel:0.1.0 .
#   docker run --rm --read-only --tmpfs /tmp ghcr.io/patchlevel/patchlevel:0.1.0 --help
#
# The image runs as an unprivileged numeric user and writes nothing outside /tmp and the
# report volume, so it works with a read-only root filesystem.  Pin the base image by digest
# (python:3.11-slim@sha256:...) in the pipeline that publishes it.

ARG PYTHON_IMAGE=python:3.11-slim

# -- build: install patchlevel and its dependencies into a virtual environment ------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/patchlevel \
 && /opt/patchlevel/bin/pip install '.[postgres]' \
 && /opt/patchlevel/bin/patchlevel --help >/dev/null

# -- runtime: the virtual environment on a clean base, no build tools, no root -------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="patchlevel" \
      org.opencontainers.image.description="Audit whether a Kubernetes cluster is patched (PCI container guidance 10.1-10.3)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0"
RUN groupadd --system --gid 10001 patchlevel \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin patchlevel \
 && mkdir /reports \
 && chown 10001:10001 /reports
COPY --from=build /opt/patchlevel /opt/patchlevel
# Everything a run may write goes to /tmp (mount a tmpfs or emptyDir there) or to /reports.
ENV PATH=/opt/patchlevel/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_CONFIG_HOME=/tmp/.config \
    XDG_DATA_HOME=/tmp/.local/share \
    XDG_STATE_HOME=/tmp/.local/state
WORKDIR /reports
USER 10001:10001
# patchlevel serve (deploy/exporter.yaml) listens here: /metrics, /healthz, /readyz
EXPOSE 9877
ENTRYPOINT ["patchlevel"]
CMD ["--help"]
