"""Every key of the Collector's awsemfexporter and of the AWS session settings both AWS exporters embed
loads with the Collector's meaning, or is refused with why and what to use instead: configs written from
the Collector's documentation (exporters/*/testdata), run through `collector validate` as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import moto.moto_proxy
import pytest

from common.aws.client import botocore_config, verify
from exporters.awscloudwatch.config import AwsCloudWatchConfig
from exporters.awsemf.config import AwsEmfConfig

ROOT = Path(__file__).resolve().parents[2]
CA_FILE = Path(moto.moto_proxy.__file__).with_name("ca.crt")


def validate(config: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n")
    env = {"PATH": "/usr/bin:/bin", "CA_FILE": str(CA_FILE), "CREDENTIALS_FILE": str(credentials)}
    return subprocess.run(
        [sys.executable, "-m", "collector", "validate", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    "config", ["exporters/awsemf/testdata/collector-keys.yaml", "exporters/awscloudwatch/testdata/session-keys.yaml"]
)
def test_every_collector_key_loads(config: str, tmp_path: Path) -> None:
    result = validate(ROOT / config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "configuration is valid" in result.stdout


def test_refused_keys_say_why_and_what_instead(tmp_path: Path) -> None:
    result = validate(ROOT / "exporters/awsemf/testdata/collector-refused.yaml", tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    expected = {
        "detailed_metrics": "no Summary metrics",
        "eks_fargate_container_insights_enabled": "metricstransform processor instead",
        "middleware": "use role_arn, profile",
        "log_retention": "must be one of 0, 1, 3",
        "dimension_rollup_option": "did you mean 'SingleDimensionRollupOnly'",
        "version": "'0' or '1'",
        "shared_credentials_file": "reads one shared credentials file",
    }
    for key, why in expected.items():
        [line] = [line for line in output.splitlines() if line.strip().startswith(f"exporters.awsemf.{key}:")]
        assert why in line, line


def test_session_keys_reach_the_sdk() -> None:
    """What each session key sets in the SDK's client configuration (the moto tests show them working)."""
    config = AwsCloudWatchConfig(
        namespace="N",
        proxy_address="http://proxy.internal:3128",
        request_timeout_seconds=7,
        max_retries=3,
        certificate_file_path=str(CA_FILE),
    )
    sdk = botocore_config(config, timeout=5.0)
    assert sdk.proxies == {"http": "http://proxy.internal:3128", "https": "http://proxy.internal:3128"}
    assert (sdk.connect_timeout, sdk.read_timeout) == (7, 7)
    assert sdk.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert verify(config) == str(CA_FILE)
    assert verify(config.model_copy(update={"no_verify_ssl": True})) is False
    assert botocore_config(AwsCloudWatchConfig(namespace="N"), timeout=5.0).read_timeout == 5.0  # default: timeout


def test_collector_defaults_and_ours() -> None:
    """Where our default differs from the Collector's (README.md, "Deliberate differences")."""
    config = AwsEmfConfig()
    assert config.dimension_rollup_option == "NoDimensionRollup"  # the Collector: ZeroAndSingleDimensionRollup
    assert config.version == "1"
    assert config.initial_value == "auto"  # the Collector: false = drop the first point
    assert AwsEmfConfig(retain_initial_value_of_delta_metric=False).initial_value == "drop"
    assert AwsEmfConfig(retain_initial_value_of_delta_metric=True).initial_value == "keep"
    assert AwsEmfConfig(dimension_rollup_option="SingleDimensionRollup").dimension_rollup_option == (
        "SingleDimensionRollupOnly"  # the spelling this exporter accepted before
    )


def test_session_key_values_are_checked() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not an IAM role ARN"):
        AwsEmfConfig(role_arn="emf-writer")
    with pytest.raises(ValidationError, match="http:// or https:// URL"):
        AwsEmfConfig(proxy_address="proxy.internal:3128")
    with pytest.raises(ValidationError, match="no such file"):
        AwsEmfConfig(certificate_file_path="/nonexistent/ca.pem")
