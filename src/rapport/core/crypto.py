"""Secrets at rest: AES-256-GCM with a key ring, blind indexes, token hashing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_FORMAT_VERSION = b"\x01"
_KEY_ID_LENGTH = 4
_NONCE_LENGTH = 12
_SHA256_BLOCK = 64
_FINGERPRINT_HEX_LENGTH = 16


class DecryptionError(Exception):
    """A ciphertext could not be opened by any key in the ring."""


def derive_key(master: bytes, purpose: str) -> bytes:
    """Derive a 32-byte key for one purpose from a master secret (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master
    )


def key_fingerprint(material: bytes) -> str:
    """Return a short public name for a key: 16 hex digits of its SHA-256, never the key."""
    return hashlib.sha256(material).hexdigest()[:_FINGERPRINT_HEX_LENGTH]


@dataclass(frozen=True)
class PurposeKey:
    """A secret derived from one master for one purpose, named by its fingerprint."""

    key_id: str
    secret: bytes


class KeyRing:
    """AES-GCM keys: the first encrypts, every key decrypts (rotation without downtime)."""

    def __init__(self, masters: list[bytes]) -> None:
        if not masters:
            raise ValueError("a key ring needs at least one key")
        keys = [derive_key(master, "rapport.encryption.v1") for master in masters]
        self._keys = {hashlib.sha256(key).digest()[:_KEY_ID_LENGTH]: key for key in keys}
        self._current_id = hashlib.sha256(keys[0]).digest()[:_KEY_ID_LENGTH]
        # The blind-index key comes from the oldest master so lookups survive rotation.
        self._index_key = derive_key(masters[-1], "rapport.blind-index.v1")
        # HMAC-SHA256 by its definition, H((K^opad) || H((K^ipad) || m)), from the two keyed
        # SHA-256 states computed once: copying a C hash state is far cheaper than hmac.copy().
        padded = self._index_key.ljust(_SHA256_BLOCK, b"\0")
        self._index_inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded))
        self._index_outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))
        self._ciphers = {key_id: AESGCM(key) for key_id, key in self._keys.items()}
        self._signing_key = derive_key(masters[0], "rapport.signing.v1")
        self._verify_keys = [derive_key(master, "rapport.signing.v1") for master in masters]
        self._masters = list(masters)
        self._purpose_keys: dict[str, list[PurposeKey]] = {}

    def purpose_keys(self, purpose: str) -> list[PurposeKey]:
        """Return one key per master for `purpose`, newest first: the first makes, all check."""
        if purpose not in self._purpose_keys:
            derived = [derive_key(master, purpose) for master in self._masters]
            self._purpose_keys[purpose] = [PurposeKey(key_fingerprint(k), k) for k in derived]
        return self._purpose_keys[purpose]

    def signing_keys(self, purpose: str) -> list[Ed25519PrivateKey]:
        """Return one Ed25519 key per master for `purpose`, newest first (publishable halves)."""
        return [
            Ed25519PrivateKey.from_private_bytes(key.secret) for key in self.purpose_keys(purpose)
        ]

    def encrypt(self, plaintext: str, aad: str) -> bytes:
        """Seal `plaintext`, binding it to `aad` (table/column/row)."""
        return self.encrypt_many([plaintext.encode()], [aad])[0]

    def encrypt_many(self, plaintexts: list[bytes], aads: list[str]) -> list[bytes]:
        """Seal many values at once (one random read for every nonce), each bound to its aad."""
        encrypt, prefix = (
            self._ciphers[self._current_id].encrypt,
            _FORMAT_VERSION + self._current_id,
        )
        nonces = os.urandom(_NONCE_LENGTH * len(plaintexts))
        return [
            prefix + nonce + encrypt(nonce, plaintext, aad.encode())
            for nonce, plaintext, aad in zip(
                (nonces[at : at + _NONCE_LENGTH] for at in range(0, len(nonces), _NONCE_LENGTH)),
                plaintexts,
                aads,
                strict=True,
            )
        ]

    def decrypt(self, blob: bytes, aad: str) -> str:
        """Open a blob sealed by any key of the ring with the same `aad`."""
        key_id = blob[1 : 1 + _KEY_ID_LENGTH]
        nonce_start = 1 + _KEY_ID_LENGTH
        cipher = self._ciphers.get(key_id)
        if blob[:1] != _FORMAT_VERSION or cipher is None:
            raise DecryptionError("unknown key or format")
        nonce = blob[nonce_start : nonce_start + _NONCE_LENGTH]
        try:
            plain = cipher.decrypt(nonce, blob[nonce_start + _NONCE_LENGTH :], aad.encode())
        except Exception as error:
            raise DecryptionError("ciphertext does not open with this aad") from error
        return plain.decode()

    def blind_index(self, value: str, kind: str) -> str:
        """Return a keyed hash of a normalised value, for exact-match lookups."""
        inner = self._index_inner.copy()
        inner.update(f"{kind}:{value}".encode())
        outer = self._index_outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def sign(self, message: str) -> str:
        """Return an HMAC-SHA256 signature of `message` (URL-safe base64)."""
        digest = hmac.new(self._signing_key, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def verify(self, message: str, signature: str) -> bool:
        """Check a signature made by any key of the ring."""
        for key in self._verify_keys:
            digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
            expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if hmac.compare_digest(expected.encode(), signature.encode()):
                return True
        return False


def new_token(prefix: str = "", nbytes: int = 32) -> str:
    """Return a fresh random token, optionally prefixed (e.g. `rk_live_`)."""
    return prefix + secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a high-entropy token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


_keyring: KeyRing | None = None


def configure_keyring(masters: list[bytes]) -> KeyRing:
    """Install the process key ring (done by create_app and the CLI from Settings)."""
    global _keyring
    _keyring = KeyRing(masters)
    return _keyring


def keyring() -> KeyRing:
    """Return the process key ring, building it from Settings on first use."""
    if _keyring is None:
        from rapport.config import get_settings

        return configure_keyring(get_settings().secret_keys())
    return _keyring
