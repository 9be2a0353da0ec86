"""An OpenTelemetry-Collector-style metrics pipeline: receivers -> processors -> exporters."""
