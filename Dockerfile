# The collector's container: the same set-up as README's `scripts/run` (scripts/bootstrap), then the
# JMX gateway (and the demo target) compiled once at build time, so the runtime image needs only a small
# Java runtime, cut from the build's JDK with jlink. See docs/deploy.md.
#   docker build -t jmx-otel-collector .
#   docker run --read-only --tmpfs /tmp --cap-drop ALL -e JMX_ENDPOINT=connect-worker:7098 jmx-otel-collector
#   docker run -v $PWD/my-config.yaml:/etc/collector/otel-config.yaml:ro jmx-otel-collector
#   docker run jmx-otel-collector demo        # a demo target JVM inside the container, nothing to connect to
# The base is a build argument (the tests build on a Debian-packaged stand-in: no registry is reachable there).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
WORKDIR /opt/collector
# Dependencies first: this layer stays cached while pyproject.toml does not change.
# scripts/bootstrap apt-get installs the JDK (javac) when missing, makes .venv, pip-installs the project.
COPY pyproject.toml README.md ./
COPY scripts/bootstrap scripts/bootstrap
RUN scripts/bootstrap && rm -rf /root/.cache /var/lib/apt/lists/*
# The Java runtime the gateway and the demo need (36 MB, against ~350 MB for Debian's headless JRE):
# the modules `jdeps --print-module-deps` finds in their classes and the py4j jar, plus what is loaded
# by name: the JNDI RMI provider (service:jmx:rmi:///jndi/rmi://...), EC ciphers for TLS, SASL for JMX auth.
ARG JRE_MODULES=java.base,java.instrument,java.logging,java.management.rmi,jdk.naming.rmi,jdk.crypto.ec,java.security.sasl
RUN jlink --add-modules "$JRE_MODULES" --strip-java-debug-attributes --no-man-pages --no-header-files --compress=2 \
      --output /opt/collector/jre
COPY collector/ collector/
COPY common/ common/
COPY receivers/ receivers/
COPY processors/ processors/
COPY exporters/ exporters/
COPY extensions/ extensions/
# Then the code itself, as a regular (not editable) install: byte-compiled, nothing of the source tree needed
# at run time. The gateway and demo classes go to JMX_GATEWAY_CACHE, readable (not writable) by the
# runtime user: compiled trees are made private (0700) by the compiler's temporary directories.
RUN .venv/bin/python -m pip install -q --no-deps --no-compile . \
 && .venv/bin/python -m compileall -q .venv/lib \
 && cd / \
 && JMX_GATEWAY_CACHE=/opt/collector/gateway /opt/collector/.venv/bin/python -c \
    "from receivers.jmx import demo, gateway; print(gateway.classpath(), demo.classpath())" \
 && chmod -R u=rwX,go=rX /opt/collector/.venv /opt/collector/gateway

FROM ${BASE_IMAGE}
RUN groupadd --system --gid 10001 collector \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin collector
COPY --from=build /opt/collector/jre /opt/collector/jre
COPY --from=build /opt/collector/.venv /opt/collector/.venv
COPY --from=build /opt/collector/gateway /opt/collector/gateway
COPY otel-config.yaml /etc/collector/otel-config.yaml
ENV PATH=/opt/collector/.venv/bin:/opt/collector/jre/bin:$PATH \
    JAVA_HOME=/opt/collector/jre \
    JMX_GATEWAY_CACHE=/opt/collector/gateway \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Owned by root, read-only for the collector: it runs with --read-only and writes nothing but /tmp.
USER 10001:10001
WORKDIR /etc/collector
# `collector healthcheck` reads the same config as `collector run` (with the container's environment, so
# HEALTH_CHECK_ENDPOINT applies) and probes the health_check extension's endpoint and path.
# A config mounted elsewhere needs its own --health-cmd.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["collector", "healthcheck", "--config", "/etc/collector/otel-config.yaml"]
# docker stop sends SIGTERM: the collector drains and exits 0 within service.shutdown_grace_period (30s
# by default); give docker stop at least that long (docker stop -t 35, stop_grace_period, stopTimeout).
STOPSIGNAL SIGTERM
ENTRYPOINT ["collector"]
CMD ["run", "--config", "/etc/collector/otel-config.yaml"]
