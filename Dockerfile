# Convene in a container: one process per container (`convene serve`), settings from the
# environment, migrations run at start by scripts/entrypoint.sh (safe with several replicas:
# `convene db upgrade` takes the migration lock). See README "Running in production".
#
#   docker build -t convene .
#   docker compose up            # with PostgreSQL and demo data, at http://localhost:3978/

FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/convene
ENV PATH=/opt/convene/bin:$PATH

# Exactly the pinned packages, each checked against its hash (pip refuses any other file).
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes -r /tmp/requirements.lock

# Then Convene itself, without letting pip pick anything more.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY manifest ./manifest
RUN pip install --no-deps . && rm -rf /src/build


FROM python:3.11-slim-bookworm

ENV PATH=/opt/convene/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONVENE_HOST=0.0.0.0 \
    CONVENE_PORT=3978 \
    CONVENE_LOG_FORMAT=json

# A user of its own, with no password, no shell login and no home worth the name.
RUN groupadd --system --gid 10001 convene \
    && useradd --system --uid 10001 --gid convene --home-dir /app --shell /usr/sbin/nologin convene \
    && mkdir /app && chown convene:convene /app

COPY --from=build /opt/convene /opt/convene
COPY scripts/entrypoint.sh /usr/local/bin/convene-entrypoint

WORKDIR /app
USER convene:convene
EXPOSE 3978

# Ready: the database answers and its schema is the one this code expects (/readyz).
# No curl in a slim image: Python's own client fails on anything but a 2xx answer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('CONVENE_PORT', '3978'), timeout=4)"]

ENTRYPOINT ["convene-entrypoint"]
CMD []
