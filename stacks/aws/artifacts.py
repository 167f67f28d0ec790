"""The topology's artifacts in S3: patches (.ptm), widgets (.war/.ear/.jar) and Fluig configuration
files, as the repository holds them.

One bucket per topology (reproducible from git, so force-destroyed with the topology); one
object per artifact, whose key carries the content's sha256 (``<folder>/<sha256>/<file>``): a
content change is a new object, so a half-uploaded file is never read under a digest it does not
have, and ``source_hash`` (the same digest) makes the engine upload again. ``etag`` is not set:
S3's ETag is an MD5 (or not a digest at all with KMS/multipart), so a sha256 there would be a
permanent diff. S3 checks the upload against a SHA-256 checksum.

Objects carry the standard tags without the labels: S3 allows 10 tags per object.
"""

from __future__ import annotations

import posixpath

import pulumi
import pulumi_aws.s3 as s3

from stacks.aws.context import Stack


def artifact_paths(st: Stack) -> list[str]:
    """Repository files the topology deploys, of the features the matrix gives the product."""
    env = st.env
    paths = []
    if st.has("patches"):
        paths += [p.file for p in env.patches if p.file]
    if st.has("widgets"):
        paths += list(env.widgets)
    if st.has("fluigConfig") and env.fluig_config:
        paths += [p for p in (env.fluig_config.standalone_xml, env.fluig_config.standalone_conf) if p]
    return sorted(set(paths))


def object_key(path: str, hex_digest: str) -> str:
    folder, file = posixpath.split(path)
    return posixpath.join(folder, hex_digest, file)


def object_tags(st: Stack) -> dict[str, str]:
    return {k: v for k, v in st.tags().items() if not k.startswith("label-")}


def bucket(st: Stack) -> s3.Bucket:
    name = st.name("artifacts", *([st.settings.account_id] if st.settings.account_id else []))
    return s3.Bucket("artifacts", bucket=name, force_destroy=True, tags=st.tags(), opts=st.opts())


def upload(st: Stack, store: s3.Bucket, path: str) -> s3.BucketObjectv2:
    digest = st.inp.artifact_hex(path)
    return s3.BucketObjectv2(
        f"artifact-{path}", bucket=store.bucket, key=object_key(path, digest),
        source=pulumi.FileAsset(st.inp.artifact_file(path)), source_hash=digest, checksum_algorithm="SHA256",
        tags=object_tags(st), opts=st.opts())


def artifacts(st: Stack) -> tuple[s3.Bucket, list[s3.BucketObjectv2]]:
    store = bucket(st)
    return store, [upload(st, store, path) for path in artifact_paths(st)]
