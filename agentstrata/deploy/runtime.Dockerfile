# The Strata runtime: one agent per container, `strata serve` with the deploy's arguments
# (e.g. --stack /app/spec/stack.yaml --agent NAME --host 0.0.0.0 --port 8000).
#
# The build context is .strata/build/runtime/, laid out by `strata setup`: this file and
# wheels/, a wheelhouse of agentstrata and all its dependencies, so the build needs no index.
# With no container registry reachable, the deploy passes the base image `strata setup` made:
#   --build-arg BASE_IMAGE=strata-base:bookworm-py311
ARG BASE_IMAGE=python:3.11-slim

# Installing in a first stage keeps the wheels out of the final image's layers. The legacy
# builder leaves this stage behind as an untagged image: the label lets it be pruned alone.
FROM ${BASE_IMAGE} AS install
LABEL org.strata.stage=install
COPY wheels /wheels
# pip and setuptools are only needed to install: 22 MB less in the final image without them.
RUN python3 -m venv /opt/strata \
 && /opt/strata/bin/pip install --no-cache-dir --no-index --find-links /wheels agentstrata \
 && /opt/strata/bin/pip uninstall --yes --quiet pip setuptools

FROM ${BASE_IMAGE}
COPY --from=install /opt/strata /opt/strata
# /var/lib/strata is where the deploy mounts each agent's state volume: a new named volume takes
# the owner of the directory it is mounted over, so it must belong to the agent's user here.
RUN useradd --uid 10001 --user-group --home-dir /app --create-home --shell /usr/sbin/nologin strata \
 && install -d -o 10001 -g 10001 /var/lib/strata
ENV PATH=/opt/strata/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/app
WORKDIR /app
USER 10001
ENTRYPOINT ["strata", "serve"]
