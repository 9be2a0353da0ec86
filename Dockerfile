# The collector's container: the same set-up as README's `scripts/run` (scripts/bootstrap), then the
# JMX gateway compiled once at build time so the runtime image needs only a headless JRE.
#   docker build -t jmx-otel-collector .
#   docker run -e JMX_ENDPOINT=connect-worker:7098 jmx-otel-collector
#   docker run -v $PWD/my-config.yaml:/etc/collector/otel-config.yaml:ro jmx-otel-collector

FROM python:3.11-slim-bookworm AS build
WORKDIR /opt/collector
COPY pyproject.toml README.md ./
COPY scripts/ scripts/
COPY collector/ collector/
COPY receivers/ receivers/
COPY processors/ processors/
COPY exporters/ exporters/
COPY extensions/ extensions/
# scripts/bootstrap: apt-get installs the JDK (javac) when missing, makes .venv, pip-installs the project.
RUN scripts/bootstrap \
 && JMX_GATEWAY_CACHE=/opt/collector/gateway .venv/bin/python -c \
    "from receivers.jmx.gateway import classpath; print(classpath())"

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin collector
COPY --from=build /opt/collector /opt/collector
COPY otel-config.yaml /etc/collector/otel-config.yaml
ENV PATH=/opt/collector/.venv/bin:$PATH \
    JMX_GATEWAY_CACHE=/opt/collector/gateway \
    PYTHONDONTWRITEBYTECODE=1
USER collector
WORKDIR /tmp
# The shipped config's health_check listens on localhost:13133 inside the container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:13133/', timeout=4).status != 200)"]
ENTRYPOINT ["collector"]
CMD ["run", "--config", "/etc/collector/otel-config.yaml"]
