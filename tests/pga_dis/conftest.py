"""Fixtures for the object-store conformance suite.

``s3_endpoint`` starts moto's ``ThreadedMotoServer`` (a real S3 HTTP server on 127.0.0.1)
once per module, in a **child process**: moto keeps objects in memory and assembles multipart
uploads in memory, so in-process it would dominate the tracemalloc measurements that check
our own streaming. The child prints its port and exits when its stdin closes.

``aws_env`` pins boto3's credential chain to fake, recognisable test credentials (and nothing
from the developer's ~/.aws), so tests can assert they never appear in error messages.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_ACCESS_KEY_ID = "AKIAPGATESTKEY000001"
TEST_SECRET_ACCESS_KEY = "pga-test-secret-must-never-be-logged"
TEST_BUCKET = "pga-dis-test"

_SERVER = """
import sys
from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


@pytest.fixture(scope="module")
def aws_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
        mp.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", "/nonexistent/pga-test-aws-config")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/pga-test-aws-credentials")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


@pytest.fixture(scope="module")
def s3_endpoint(aws_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path: Path = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        line = proc.stdout.readline().decode().strip()
        if not line.isdigit():
            pytest.fail(f"moto server did not start: {log_path.read_text()[-2000:]}")
        endpoint = f"http://127.0.0.1:{int(line)}"
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket=TEST_BUCKET)
        client.close()
        yield endpoint
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
