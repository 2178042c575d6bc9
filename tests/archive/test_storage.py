"""The archive storages: local disk (atomic, never overwritten) and S3-compatible object storage (a local moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from reconbot.core.archive.storage import LocalDiskStorage, S3Storage, StorageError, storage_from_settings
from reconbot.core.settings import S3Settings
from tests.fakes.server import free_port


def test_local_disk_stores_atomically_and_never_overwrites(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path / "archive")
    assert not storage.exists("7/abc")
    storage.put("7/abc", b"%PDF-first")
    storage.put("7/abc", b"%PDF-second")  # a key's bytes never change
    assert storage.get("7/abc") == b"%PDF-first" and storage.exists("7/abc")
    assert [p.name for p in (tmp_path / "archive" / "7").iterdir()] == ["abc"]  # no temporary file left
    with pytest.raises(StorageError, match="is missing"):
        storage.get("7/def")
    for bad in ("../etc/passwd", "/abs", "7/../x", ""):
        with pytest.raises(ValueError, match="is not an archive key"):
            storage.put(bad, b"x")


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Settings]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        settings = S3Settings(f"http://127.0.0.1:{port}", "invoices", "test-key", "test-secret")
        client = boto3.client("s3", endpoint_url=settings.url, aws_access_key_id=settings.access_key,
                              aws_secret_access_key=settings.secret_key, region_name=settings.region)  # fmt: skip
        client.create_bucket(Bucket=settings.bucket)
        yield settings
    finally:
        server.stop()


def test_s3_round_trip(s3: S3Settings) -> None:
    storage = S3Storage(s3)
    assert not storage.exists("1/" + "a" * 64)
    storage.put("1/" + "a" * 64, b"%PDF-one")
    storage.put("1/" + "a" * 64, b"%PDF-two")  # never overwritten
    assert storage.exists("1/" + "a" * 64) and storage.get("1/" + "a" * 64) == b"%PDF-one"
    with pytest.raises(StorageError, match="is missing from bucket invoices"):
        storage.get("1/" + "b" * 64)
    wrong = S3Storage(S3Settings(s3.url, "no-such-bucket", "test-key", "test-secret"))
    with pytest.raises(StorageError, match="could not store"):
        wrong.put("1/x", b"%PDF-")


def test_settings_choose_the_storage(s3: S3Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RECONBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RECONBOT_ARCHIVE_DIR", raising=False)
    monkeypatch.delenv("RECONBOT_ARCHIVE_S3_URL", raising=False)
    local = storage_from_settings()
    assert isinstance(local, LocalDiskStorage) and local.root == tmp_path.resolve() / "archive"
    monkeypatch.setenv("RECONBOT_ARCHIVE_S3_URL", s3.url)
    with pytest.raises(StorageError, match="RECONBOT_ARCHIVE_S3_BUCKET must be set too"):
        storage_from_settings()
    monkeypatch.setenv("RECONBOT_ARCHIVE_S3_BUCKET", s3.bucket)
    monkeypatch.setenv("RECONBOT_ARCHIVE_S3_ACCESS_KEY", s3.access_key)
    monkeypatch.setenv("RECONBOT_ARCHIVE_S3_SECRET_KEY", s3.secret_key)
    remote = storage_from_settings()
    assert isinstance(remote, S3Storage) and "test-secret" not in repr(remote)
    remote.put("2/k", b"%PDF-via-settings")
    assert S3Storage(s3).get("2/k") == b"%PDF-via-settings"
