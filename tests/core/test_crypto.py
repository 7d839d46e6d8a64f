"""Secrets at rest: AES-GCM bound to its row, rotation without downtime, hashed tokens."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from rapport.core.crypto import DecryptionError, KeyRing, hash_token, new_token

OLD, NEW = b"o" * 48, b"n" * 48
AAD = "staff_users.totp_secret.abc"


def test_round_trip() -> None:
    ring = KeyRing([NEW])
    assert ring.decrypt(ring.encrypt("JBSWY3DPEHPK3PXP", AAD), AAD) == "JBSWY3DPEHPK3PXP"


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    assert b"JBSWY3DPEHPK3PXP" not in KeyRing([NEW]).encrypt("JBSWY3DPEHPK3PXP", AAD)


def test_same_plaintext_encrypts_differently_each_time() -> None:
    ring = KeyRing([NEW])
    assert ring.encrypt("same", AAD) != ring.encrypt("same", AAD)


def test_other_aad_does_not_open() -> None:
    ring = KeyRing([NEW])
    with pytest.raises(DecryptionError):
        ring.decrypt(ring.encrypt("secret", AAD), "staff_users.totp_secret.other")


def test_tampered_ciphertext_does_not_open() -> None:
    ring = KeyRing([NEW])
    blob = bytearray(ring.encrypt("secret", AAD))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.decrypt(bytes(blob), AAD)


def test_unknown_key_does_not_open() -> None:
    with pytest.raises(DecryptionError):
        KeyRing([NEW]).decrypt(KeyRing([OLD]).encrypt("secret", AAD), AAD)


def test_blob_sealed_with_old_key_opens_after_rotation() -> None:
    blob = KeyRing([OLD]).encrypt("secret", AAD)
    assert KeyRing([NEW, OLD]).decrypt(blob, AAD) == "secret"


def test_new_blobs_use_the_new_key_after_rotation() -> None:
    blob = KeyRing([NEW, OLD]).encrypt("secret", AAD)
    assert KeyRing([NEW]).decrypt(blob, AAD) == "secret"
    with pytest.raises(DecryptionError):
        KeyRing([OLD]).decrypt(blob, AAD)


def test_blind_index_is_stable_across_rotation() -> None:
    before = KeyRing([OLD]).blind_index("jane@example.com", "email")
    assert KeyRing([NEW, OLD]).blind_index("jane@example.com", "email") == before


def test_blind_index_depends_on_kind_and_value() -> None:
    ring = KeyRing([NEW])
    values = {
        ring.blind_index("jane@example.com", "email"),
        ring.blind_index("jane@example.com", "phone"),
        ring.blind_index("john@example.com", "email"),
    }
    assert len(values) == 3


def test_blind_index_is_keyed() -> None:
    assert KeyRing([NEW]).blind_index("x", "email") != KeyRing([OLD]).blind_index("x", "email")


def test_signature_made_with_old_key_verifies_after_rotation() -> None:
    signature = KeyRing([OLD]).sign("csrf:abc")
    assert KeyRing([NEW, OLD]).verify("csrf:abc", signature) is True


def test_signature_of_another_message_is_refused() -> None:
    ring = KeyRing([NEW])
    assert ring.verify("csrf:abd", ring.sign("csrf:abc")) is False


def test_empty_ring_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        KeyRing([])


def test_tokens_are_hashed_with_sha256() -> None:
    token = new_token("rk_")
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in hash_token(token)


def test_tokens_carry_their_prefix_and_are_unique() -> None:
    tokens = {new_token("rk_") for _ in range(100)}
    assert len(tokens) == 100
    assert all(token.startswith("rk_") and len(token) == 3 + 43 for token in tokens)


@pytest.mark.parametrize("value", ["", "ada@example.com", "ü" * 100, "x" * 5000])
def test_blind_index_is_hmac_sha256_of_kind_and_value(value: str) -> None:
    """Stored indexes stay valid: the fast path computes exactly HMAC-SHA256."""
    ring = KeyRing([b"n" * 40, b"o" * 40])
    expected = hmac.new(ring._index_key, f"customers.email:{value}".encode(), hashlib.sha256)
    assert ring.blind_index(value, "customers.email") == expected.hexdigest()


def test_encrypt_many_seals_each_value_to_its_own_aad_with_its_own_nonce() -> None:
    ring = KeyRing([b"n" * 40])
    sealed = ring.encrypt_many([b"first", b"second", b"first"], ["row:1", "row:2", "row:3"])
    assert [ring.decrypt(blob, f"row:{n}") for n, blob in enumerate(sealed, 1)] == [
        "first",
        "second",
        "first",
    ]
    assert sealed[0] != sealed[2]  # same value, different nonce
    with pytest.raises(DecryptionError):
        ring.decrypt(sealed[0], "row:2")
