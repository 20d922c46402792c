"""Artifact content in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto…) through boto3.

Postgres keeps the metadata, sizes and SHA-256; the bucket keeps only content bytes. Keys are
derived from the artifact id, and an id that could escape the key prefix on any server (a path
separator, a `..` segment, an absolute or drive path, or any of these percent-encoded or written
with look-alike Unicode) is refused rather than rewritten.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, unquote

from artifacts.store.artifact import ContentIntegrityError, InvalidArtifactError, StoreUnavailableError

# S3's smallest multipart part is 5 MiB; 8 MiB parts keep one upload's buffer small and the part count low.
PART_BYTES = 8 * 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024
_KEY_SAFE_CHARS = "-_.~:@+=,!"
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_DECODE_ROUNDS = 4


class ObjectStorageError(StoreUnavailableError):
    """The object store could not be reached, or refused an upload, download or delete."""


class ObjectMissingError(ContentIntegrityError):
    """The metadata names an object the bucket no longer has."""


class UnsafeObjectKeyError(InvalidArtifactError):
    """An artifact id that could step outside the bucket prefix when used in an object key."""


def check_object_key_safe(artifact_id: str) -> None:
    """Raise UnsafeObjectKeyError for ids that are, or decode to, a path escape."""
    if problem := _key_problem(artifact_id):
        raise UnsafeObjectKeyError(
            f"Artifact id {artifact_id!r} cannot name an object in storage: {problem}. "
            "Use ids without path separators, '..' or control characters (the default art-<uuid> is safe)."
        )


def _key_problem(artifact_id: str) -> str | None:
    try:
        forms = _decoded_forms(artifact_id)
    except UnicodeDecodeError:
        return "it contains a percent-encoding that is not valid UTF-8"
    return next((problem for form in forms if (problem := _path_problem(form))), None)


def object_key(artifact_id: str, *, prefix: str) -> str:
    """A fresh key for this artifact's content under `prefix`.

    The random suffix means two racing saves of one id never write the same object, so the loser
    can delete its own upload without touching the winner's.
    """
    check_object_key_safe(artifact_id)
    return f"{prefix}{quote(artifact_id, safe=_KEY_SAFE_CHARS)}/{secrets.token_hex(8)}"


def _decoded_forms(value: str) -> list[str]:
    forms = [value]
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(forms[-1], errors="strict") if "%" in forms[-1] else forms[-1]
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms + [unicodedata.normalize("NFKC", form) for form in forms]


def _path_problem(form: str) -> str | None:
    if "/" in form or "\\" in form:
        return "it contains a path separator"
    if form in {".", ".."}:
        return "it is a relative path segment"
    if _DRIVE.match(form):
        return "it starts like a drive path"
    if any(ord(c) < 32 or ord(c) == 127 for c in form):
        return "it contains a control character"
    return None


def _check_prefix(prefix: str) -> None:
    segments = prefix.split("/")
    if prefix.startswith("/") or "\\" in prefix or any(s in {".", ".."} for s in segments):
        raise InvalidArtifactError(f"The object key prefix {prefix!r} must be relative and free of '.' or '..'.")


class ObjectStorage:
    """One bucket (and key prefix) of an S3-compatible store. Blocking calls; run them off the event loop."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "artifacts/",
        connect_timeout: float = 5,
        read_timeout: float = 60,
        max_attempts: int = 3,
    ) -> None:
        import boto3
        from botocore.config import Config

        _check_prefix(prefix)
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": max_attempts, "mode": "standard"},
                # Path-style URLs work on every S3-compatible server; virtual hosts need DNS for each bucket.
                s3={"addressing_style": "path"} if endpoint_url else {},
            ),
        )

    def __repr__(self) -> str:
        return f"ObjectStorage(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r}, prefix={self.prefix!r})"

    def key_for(self, artifact_id: str) -> str:
        return object_key(artifact_id, prefix=self.prefix)

    def create_bucket(self) -> None:
        """Create the bucket if it does not exist (for development and tests; production buckets are provisioned)."""
        from botocore.exceptions import ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError:
            pass
        except Exception as exc:
            raise self._error("reach bucket", self.bucket, exc) from exc
        with self._errors("create bucket", self.bucket):
            self._client.create_bucket(Bucket=self.bucket)

    def upload(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the chunks as one object, holding at most one part in memory; returns the bytes stored.

        On any failure nothing is left behind: a multipart upload is aborted.
        """
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        total = 0
        try:
            for chunk in chunks:
                buffer += chunk
                total += len(chunk)
                while len(buffer) >= PART_BYTES:
                    if upload_id is None:
                        with self._errors("start uploading", key):
                            upload_id = self._client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
                    parts.append(self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer[:PART_BYTES])))
                    del buffer[:PART_BYTES]
            if upload_id is None:
                with self._errors("upload", key):
                    self._client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer))
                return total
            if buffer:
                parts.append(self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer)))
            with self._errors("finish uploading", key):
                self._client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
            return total
        except BaseException:
            if upload_id is not None:
                self._abort(key, upload_id)
            raise

    def iter_chunks(self, key: str, *, chunk_size: int = READ_CHUNK_BYTES) -> Iterator[bytes]:
        """The object's bytes, a chunk at a time."""
        from botocore.exceptions import ClientError

        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise ObjectMissingError(
                    f"The content object {key!r} is missing from bucket {self.bucket!r}; the artifact cannot be read."
                ) from None
            raise self._error("download", key, exc) from exc
        except Exception as exc:
            raise self._error("download", key, exc) from exc
        body = response["Body"]
        try:
            with self._errors("download", key):
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        with self._errors("delete", key):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def delete_many(self, keys: list[str]) -> None:
        """Delete up to any number of objects, 1,000 per request (S3's limit)."""
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            with self._errors("delete", f"{len(batch)} objects"):
                response = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )
            if errors := response.get("Errors"):
                raise ObjectStorageError(f"Object storage refused to delete {len(errors)} objects: {errors[:3]}.")

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return False
            raise self._error("inspect", key, exc) from exc
        except Exception as exc:
            raise self._error("inspect", key, exc) from exc
        return True

    def _upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        with self._errors("upload a part of", key):
            response = self._client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def _abort(self, key: str, upload_id: str) -> None:
        # The failure that led here is the one worth raising, not a failed clean-up.
        with contextlib.suppress(Exception):
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def _errors(self, action: str, key: str) -> _WrapErrors:
        return _WrapErrors(self, action, key)

    def _error(self, action: str, key: str, exc: BaseException) -> ObjectStorageError:
        where = self.endpoint_url or "AWS S3"
        return ObjectStorageError(f"Could not {action} {key!r} in bucket {self.bucket!r} at {where}: {exc}")


class _WrapErrors:
    """Turns boto's many exception types into one ObjectStorageError that says what was being done."""

    def __init__(self, storage: ObjectStorage, action: str, key: str) -> None:
        self.storage, self.action, self.key = storage, action, key

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        if exc is not None and isinstance(exc, BotoCoreError | ClientError):
            raise self.storage._error(self.action, self.key, exc) from exc
        return False
