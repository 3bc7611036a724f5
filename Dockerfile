# syntax=docker/dockerfile:1
# The project image: the dataflow processes, `moba topics create` and the API all run it.
# It installs the project the way the README does (pip from the source tree, dependencies
# from pyproject.toml), so what runs in production is what runs on a laptop.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed uid so the named volume's files keep one owner across rebuilds; /data is created
# here (owned by that user) so Docker copies that ownership into a fresh named volume.
RUN useradd --create-home --uid 1000 moba \
    && mkdir -p /data \
    && chown moba:moba /data

WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip python -m pip install .

USER moba
ENV MOBA_DATA_DIR=/data
EXPOSE 8000
CMD ["moba", "--help"]
