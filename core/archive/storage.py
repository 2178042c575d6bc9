"""Where archived PDFs are kept: the local disk by default, S3-compatible object storage by configuration.

Keys are content-addressed (``<workspace id>/<sha256>``), so a key's bytes never change:
``put`` never overwrites, and whoever reads checks the SHA-256 (``reconbot.core.services.archive.filing``).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from reconbot.core.errors import ProviderError
from reconbot.core.settings import S3Settings, archive_dir, archive_s3_settings

_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


class StorageError(ProviderError):
    """The archive storage could not store or return a file (unreachable, refused, or the file is missing)."""


class ArchiveStorage(Protocol):
    """The three things the archive needs of a storage."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` unless something is stored there already (never overwrite)."""

    def get(self, key: str) -> bytes:
        """Return the bytes stored under ``key``; raises StorageError when there are none."""

    def exists(self, key: str) -> bool:
        """Return whether something is stored under ``key``."""


def check_key(key: str) -> str:
    """Return ``key`` when it is a relative path of plain names (no ``..``, no leading ``/``); raises ValueError."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"{key!r} is not an archive key")
    return key


class LocalDiskStorage:
    """Files under a folder (``<data dir>/archive`` by default), written atomically and never overwritten."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"LocalDiskStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """Return the file that holds ``key``; raises ValueError for a malformed key."""
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` unless the file exists; raises StorageError when the disk refuses."""
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.chmod(temporary, 0o444)
                # A hard link appears complete or not at all, and unlike rename() it never replaces a file.
                os.link(temporary, target)
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
        except OSError as exc:
            raise StorageError(f"could not store {key} in {self.root}: {exc.strerror or exc}") from None

    def get(self, key: str) -> bytes:
        """Return the file's bytes; raises StorageError when it is missing or unreadable."""
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"the archived file {key} is missing from {self.root}") from None
        except OSError as exc:
            raise StorageError(f"could not read {key} from {self.root}: {exc.strerror or exc}") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


class S3Storage:
    """Objects in a bucket of any S3-compatible service (AWS, MinIO, Ceph, Wasabi…), by boto3."""

    def __init__(self, settings: S3Settings, *, client: Any = None) -> None:
        self.bucket = settings.bucket
        self.url = settings.url
        if client is None:
            try:
                import boto3  # the optional ``s3`` extra: only an S3 archive needs it
            except ImportError:
                raise StorageError("S3 archive storage needs boto3: pip install 'reconbot[s3]'") from None
            client = boto3.client(
                "s3",
                endpoint_url=settings.url,
                aws_access_key_id=settings.access_key,
                aws_secret_access_key=settings.secret_key,
                region_name=settings.region,
            )
        self.client = client

    def __repr__(self) -> str:
        return f"S3Storage({self.url!r}, bucket={self.bucket!r})"

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` as an object unless one exists; raises StorageError when the service refuses."""
        if self.exists(key):
            return
        self._call("store", key, self.client.put_object, Bucket=self.bucket, Key=key, Body=data,
                   ContentType="application/pdf")  # fmt: skip

    def get(self, key: str) -> bytes:
        """Return the object's bytes; raises StorageError when it is missing or the service fails."""
        response = self._call("read", key, self.client.get_object, Bucket=self.bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        """Return whether the object exists; raises StorageError when the service fails otherwise."""
        try:
            self._call("look up", key, self.client.head_object, Bucket=self.bucket, Key=key)
        except _Missing:
            return False
        return True

    def _call(self, doing: str, key: str, method: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        check_key(key)
        try:
            return method(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise _Missing(f"the archived file {key} is missing from bucket {self.bucket}") from None
            raise StorageError(f"could not {doing} {key} in bucket {self.bucket}: {code} "
                               f"{error.get('Message', '')}".rstrip()) from None  # fmt: skip
        except BotoCoreError as exc:
            raise StorageError(f"could not {doing} {key} in bucket {self.bucket}: {exc}") from None


class _Missing(StorageError):
    """No object under the key."""


def storage_from_settings() -> ArchiveStorage:
    """Return the S3 storage when ``RECONBOT_ARCHIVE_S3_URL`` is set, else the local disk (``archive_dir()``).

    Raises StorageError when the S3 settings are incomplete or boto3 is not installed.
    """
    try:
        settings = archive_s3_settings()
    except ValueError as exc:
        raise StorageError(str(exc)) from None
    if settings is not None:
        return S3Storage(settings)
    return LocalDiskStorage(archive_dir())
