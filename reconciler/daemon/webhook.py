"""Authenticating a webhook delivery before anything is fetched.

GitHub (and Gitea, Forgejo) sign the raw body: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256>``
with the shared secret. GitLab sends the secret itself in ``X-Gitlab-Token``. Both are compared in
constant time. Nothing in the payload is trusted or even parsed: a valid delivery only wakes the
loop, which reads the branch itself (level-based).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Mapping

SIGNATURE_HEADER = "X-Hub-Signature-256"
GITLAB_HEADER = "X-Gitlab-Token"


def sign(body: bytes, secret: str) -> str:
    """The header value GitHub would send for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def authentic(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    signature = headers.get(SIGNATURE_HEADER)
    if signature is not None:
        return hmac.compare_digest(sign(body, secret).encode(), signature.strip().encode())
    token = headers.get(GITLAB_HEADER)
    if token is not None:
        return hmac.compare_digest(secret.encode(), token.strip().encode())
    return False
