"""boto3 clients for the CloudWatch exporters, called from threads, with errors sorted for the retry
helper: throttling, 5xx and connection errors are raised as they are (retried); other 4xx
(InvalidParameterValue, ...) become PermanentError (dropped, counted, logged once)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from botocore.utils import IMDSRegionProvider
from pydantic import Field, field_validator

from collector.component import ComponentError, ConfigModel, PermanentError
from collector.executors import OwnedExecutor

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


_ROLE_ARN = re.compile(r"arn:[^:]+:iam::\d{12}:role/.+")


class AwsConfig(ConfigModel):
    """The AWS session keys of the Collector's AWS exporters (`awsutil.AWSSessionSettings`), same meaning."""

    region: str | None = Field(None, description="AWS region; default: the SDK's chain (AWS_REGION, profile ...).")
    endpoint: str | None = Field(None, description="Override the service URL, e.g. a CloudWatch-compatible server.")
    max_retries: int = Field(
        0,
        ge=0,
        description="Retries inside the AWS SDK per attempt; 0 leaves every retry to retry_on_failure.",
    )
    request_timeout_seconds: float | None = Field(
        None, gt=0, description="Connect and read timeout of one AWS request; default: the exporter's timeout."
    )
    role_arn: str | None = Field(None, description="IAM role to assume through STS for every call.")
    external_id: str | None = Field(None, min_length=2, description="ExternalId of the role assumption (role_arn).")
    no_verify_ssl: bool = Field(False, description="Do not verify the service's TLS certificate.")
    certificate_file_path: str | None = Field(None, description="CA bundle (PEM) to verify the service's certificate.")
    proxy_address: str | None = Field(None, description="HTTP(S) proxy for every AWS call, e.g. http://proxy:3128.")
    profile: str | None = Field(None, description="Profile of the shared config/credentials files.")
    shared_credentials_file: list[str] = Field(
        default_factory=list, max_length=1, description="Credentials file instead of ~/.aws/credentials."
    )
    local_mode: bool = Field(False, description="Never ask EC2 instance metadata (IMDS) for the region.")
    imds_retries: int = Field(0, ge=0, description="Retries of instance-metadata (IMDS) requests.")
    resource_arn: str | None = Field(None, description="ARN of the resource running the collector; no effect here.")
    num_workers: int = Field(8, ge=1, description="X-Ray's concurrency key in the Collector; no effect here.")

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
        return value

    @field_validator("shared_credentials_file", mode="before")
    @classmethod
    def _one_file(cls, value: object) -> object:
        if isinstance(value, list) and len(value) > 1:
            raise ValueError(
                "the AWS SDK for Python reads one shared credentials file: give one path "
                "(or merge the files, or use profile:)"
            )
        return value

    @field_validator("certificate_file_path", "shared_credentials_file")
    @classmethod
    def _exists(cls, value: str | list[str] | None) -> str | list[str] | None:
        for path in [value] if isinstance(value, str) else value or []:
            if not Path(path).is_file():
                raise ValueError(f"{path}: no such file")
        return value

    @field_validator("proxy_address")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


# At DEBUG these libraries log signed request headers (the access key id is in Authorization):
# they stay at WARNING whatever level the collector logs at.
QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
ROLE_SESSION_NAME = "jmx-otel-collector"


class _AssumeRole(CredentialProvider):
    """Credentials of `role_arn`, assumed through STS with the default chain's credentials and
    refreshed before they expire (botocore's own fetcher and refresh logic)."""

    METHOD = "assume-role"
    CANONICAL_NAME = "custom-assume-role"

    def __init__(self, fetcher: AssumeRoleCredentialFetcher) -> None:
        super().__init__()
        self.fetcher = fetcher

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(self.fetcher.fetch_credentials, self.METHOD)


def botocore_config(config: AwsConfig, timeout: float) -> Config:
    request_timeout = config.request_timeout_seconds or timeout
    proxies = {"http": config.proxy_address, "https": config.proxy_address} if config.proxy_address else None
    return Config(
        connect_timeout=request_timeout,
        read_timeout=request_timeout,
        retries={"total_max_attempts": config.max_retries + 1, "mode": "standard"},
        user_agent_extra="jmx-otel-collector",
        proxies=proxies,
    )


def make_session(config: AwsConfig, timeout: float) -> boto3.session.Session:
    """A session with the config's profile, files, IMDS settings and role; credentials are never logged."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    core = _core_session(config)
    region = config.region or core.get_config_variable("region")
    if region is None and not config.local_mode:
        region = _imds_region(core)
    if region is None:
        raise ComponentError("no AWS region: set region: or AWS_REGION")
    core.set_config_variable("region", region)
    if config.role_arn:
        source = _core_session(config).get_credentials()  # the default chain's, kept apart from `core`'s
        if source is None:
            raise ComponentError(f"role_arn {config.role_arn}: no credentials to assume it with")
        extra = {"RoleSessionName": ROLE_SESSION_NAME}
        if config.external_id:
            extra["ExternalId"] = config.external_id

        def sts_client(service: str, **kwargs: Any) -> Any:
            return core.create_client(
                service, region_name=region, verify=verify(config), config=botocore_config(config, timeout), **kwargs
            )

        fetcher = AssumeRoleCredentialFetcher(sts_client, source, config.role_arn, extra_args=extra)
        core.register_component("credential_provider", CredentialResolver([_AssumeRole(fetcher)]))
    return boto3.session.Session(botocore_session=core)


def _core_session(config: AwsConfig) -> botocore.session.Session:
    core = botocore.session.Session(profile=config.profile)
    if config.shared_credentials_file:
        core.set_config_variable("credentials_file", config.shared_credentials_file[0])
    core.set_config_variable("metadata_service_num_attempts", config.imds_retries + 1)
    return core


def _imds_region(core: botocore.session.Session) -> str | None:
    """The instance's region from EC2 instance metadata, as the Collector asks unless `local_mode`
    (botocore's own fetcher: `metadata_service_num_attempts` from imds_retries, its 1 s timeout, off with
    AWS_EC2_METADATA_DISABLED=true). None off EC2."""
    return IMDSRegionProvider(core).provide()


def verify(config: AwsConfig) -> bool | str | None:
    if config.no_verify_ssl:
        return False
    return config.certificate_file_path


def make_client(service: str, config: AwsConfig, timeout: float) -> Any:
    """A boto3 client for `service` with every session key of the config applied."""
    session = make_session(config, timeout)
    return session.client(
        service, endpoint_url=config.endpoint, verify=verify(config), config=botocore_config(config, timeout)
    )


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500 or status == 429 or error_code(exc) in RETRYABLE_CODES
    if isinstance(exc, ParamValidationError):
        return False
    return isinstance(exc, BotoCoreError | OSError)  # connection, timeouts, credentials not yet available


async def call(
    method: Callable[..., Any], handled: frozenset[str] = frozenset(), *, threads: OwnedExecutor, **kwargs: Any
) -> Any:
    """Run one boto3 call on the exporter's own `threads`. A non-retryable AWS error becomes PermanentError
    (with its reason), except codes in `handled`, which the caller deals with (e.g. ResourceNotFoundException).

    A call outliving the export timeout is awaited, not abandoned (see `OwnedExecutor.run`): a retry while
    a PutLogEvents still ran would deliver its events twice."""
    try:
        return await threads.run(method, **kwargs)
    except ClientError as exc:
        if is_retryable(exc) or error_code(exc) in handled:
            raise
        raise PermanentError(str(exc)) from exc
    except BotoCoreError as exc:
        if is_retryable(exc):
            raise
        raise PermanentError(str(exc)) from exc
