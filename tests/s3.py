"""Looking into the local S3 server's buckets (the ``s3_server`` and ``s3_settings`` fixtures start and make them)."""

from __future__ import annotations

from typing import Any

import boto3


def s3_client(endpoint_url: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint_url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def s3_keys(settings: dict[str, str]) -> list[str]:
    """Every object key in the bucket of ``s3_settings``."""
    listed = s3_client(settings["files_s3_endpoint_url"]).list_objects_v2(Bucket=settings["files_s3_bucket"])
    return sorted(item["Key"] for item in listed.get("Contents", []))
