"""boto3 clients for the CloudWatch exporters, called from threads, with errors sorted for the retry
helper: throttling, 5xx and connection errors are raised as they are (retried); other 4xx
(InvalidParameterValue, ...) become PermanentError (dropped, counted, logged once)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError, ParamValidationError
from pydantic import Field

from collector.component import ComponentError, ConfigModel, PermanentError

# Error codes AWS uses for "slow down" or "try later": retried even when the HTTP status is 4xx.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServiceFault",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)


class AwsConfig(ConfigModel):
    """Keys every CloudWatch exporter has, named as in the Collector's AWS exporters."""

    region: str | None = Field(None, description="AWS region; default: the SDK's chain (AWS_REGION, profile ...).")
    endpoint: str | None = Field(None, description="Override the service URL, e.g. a CloudWatch-compatible server.")
    max_retries: int = Field(
        0,
        ge=0,
        description="Retries inside the AWS SDK per attempt; 0 leaves every retry to retry_on_failure.",
    )


# At DEBUG these libraries log signed request headers (the access key id is in Authorization):
# they stay at WARNING whatever level the collector logs at.
QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")


def make_client(service: str, config: AwsConfig, timeout: float) -> Any:
    """A boto3 client; credentials come from the SDK's default chain and are never logged."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    botocore_config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"total_max_attempts": config.max_retries + 1, "mode": "standard"},
        user_agent_extra="jmx-otel-collector",
    )
    try:
        return boto3.session.Session().client(
            service, region_name=config.region, endpoint_url=config.endpoint, config=botocore_config
        )
    except NoRegionError as exc:
        raise ComponentError("no AWS region: set region: or AWS_REGION") from exc


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500 or status == 429 or error_code(exc) in RETRYABLE_CODES
    if isinstance(exc, ParamValidationError):
        return False
    return isinstance(exc, BotoCoreError | OSError)  # connection, timeouts, credentials not yet available


async def call(method: Callable[..., Any], handled: frozenset[str] = frozenset(), **kwargs: Any) -> Any:
    """Run one boto3 call in a thread. A non-retryable AWS error becomes PermanentError (with its
    reason), except codes in `handled`, which the caller deals with (e.g. ResourceNotFoundException)."""
    try:
        return await asyncio.to_thread(method, **kwargs)
    except ClientError as exc:
        if is_retryable(exc) or error_code(exc) in handled:
            raise
        raise PermanentError(str(exc)) from exc
    except BotoCoreError as exc:
        if is_retryable(exc):
            raise
        raise PermanentError(str(exc)) from exc
