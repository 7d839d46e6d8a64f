"""TOTP multi-factor authentication with single-use recovery codes; codes never replay."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import hash_token, keyring
from rapport.errors import Conflict
from rapport.identity.audit import Actor, audit
from rapport.identity.enums import ActorType
from rapport.identity.errors import InvalidMfaCode
from rapport.identity.models import StaffSession, StaffUser
from rapport.identity.repository import RecoveryCodeRepository, StaffRepository
from rapport.identity.throttle import Limit, Throttle

ISSUER = "Rapport"
RECOVERY_CODE_COUNT = 10
ALLOWED_DRIFT_STEPS = 1
TOTP_CODE = re.compile(r"[0-9]{6}")  # ASCII digits only: isdigit() admits other scripts
MAX_CODE_FAILURES = 5
CODE_FAILURE_WINDOW = timedelta(minutes=15)


def _aad(user: StaffUser) -> str:
    return f"staff_users.totp_secret.{user.id}"


def _normalise_code(code: str) -> str:
    return code.replace(" ", "").replace("-", "").strip().lower()


class MfaService:
    throttle = Throttle(CODE_FAILURE_WINDOW)

    def begin_enrollment(self, user: StaffUser) -> str:
        """Start TOTP enrolment: store a pending secret and return its otpauth:// URI."""
        if user.mfa_enabled:
            raise Conflict("MFA is already on. Turn it off first to re-enrol.")
        secret = pyotp.random_base32()
        user.totp_pending_secret = keyring().encrypt(secret, _aad(user))
        return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)

    async def confirm_enrollment(
        self, session: AsyncSession, user: StaffUser, code: str, *, workspace_id: str | None = None
    ) -> list[str]:
        """Turn MFA on once the first code checks out; return the recovery codes (shown once).
        `workspace_id` is the workspace the staff member is acting in, for the audit log."""
        if user.totp_pending_secret is None:
            raise Conflict("Start MFA enrolment first.")
        secret = keyring().decrypt(user.totp_pending_secret, _aad(user))
        counter = self._matching_counter(secret, code, after=0)
        if counter is None:
            raise InvalidMfaCode()
        user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
        user.totp_last_counter, user.mfa_enabled = counter, True
        codes = [self._new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        await RecoveryCodeRepository(session).replace_for_staff(
            user.id, [hash_token(_normalise_code(c)) for c in codes]
        )
        await self._audit(session, user, "staff.mfa_enabled", workspace_id)
        return codes

    async def disable(
        self, session: AsyncSession, user: StaffUser, code: str, *, workspace_id: str | None = None
    ) -> None:
        """Turn MFA off after one more valid code."""
        await self.verify(session, user, code, workspace_id=workspace_id)
        user.mfa_enabled, user.totp_secret, user.totp_last_counter = False, None, 0
        await RecoveryCodeRepository(session).replace_for_staff(user.id, [])
        await self._audit(session, user, "staff.mfa_disabled", workspace_id)

    async def pass_sign_in(
        self, session: AsyncSession, user: StaffUser, staff_session: StaffSession, code: str
    ) -> None:
        """Complete the MFA step of a sign-in."""
        workspace_id = staff_session.workspace_id
        method = await self.verify(session, user, code, workspace_id=workspace_id)
        staff_session.mfa_passed = True
        await self._audit(session, user, "staff.mfa_passed", workspace_id, method=method)

    async def verify(
        self, session: AsyncSession, user: StaffUser, code: str, *, workspace_id: str | None = None
    ) -> str:
        """Accept a fresh TOTP code or an unused recovery code; return which one it was.
        Failures are throttled per user, so the six digits cannot be brute-forced."""
        limit = Limit("mfa", user.id, MAX_CODE_FAILURES)
        await self.throttle.check(session, [limit], None)
        normalised = _normalise_code(code)
        if user.totp_secret is not None and TOTP_CODE.fullmatch(normalised):
            secret = keyring().decrypt(user.totp_secret, _aad(user))
            counter = self._matching_counter(secret, normalised, after=user.totp_last_counter)
            if counter is not None and await StaffRepository(session).advance_totp_counter(
                user.id, counter
            ):
                return "totp"
        elif user.mfa_enabled and await RecoveryCodeRepository(session).use(
            user.id, hash_token(normalised), utcnow()
        ):
            return "recovery_code"
        await self.throttle.record_failure(session, [limit])
        await self._audit(session, user, "staff.mfa_failed", workspace_id)
        raise InvalidMfaCode()

    def _matching_counter(self, secret: str, code: str, *, after: int) -> int | None:
        if not TOTP_CODE.fullmatch(code):
            return None
        totp = pyotp.TOTP(secret)
        now_counter = totp.timecode(utcnow())
        for counter in range(
            now_counter - ALLOWED_DRIFT_STEPS, now_counter + ALLOWED_DRIFT_STEPS + 1
        ):
            # A counter at or before the last accepted one is a replay.
            if counter > after and hmac.compare_digest(totp.generate_otp(counter), code):
                return counter
        return None

    def _new_recovery_code(self) -> str:
        raw = secrets.token_hex(5)
        return f"{raw[:5]}-{raw[5:]}"

    async def recovery_codes_left(self, session: AsyncSession, user: StaffUser) -> int:
        """Count a staff user's unused recovery codes."""
        return await RecoveryCodeRepository(session).count_unused(user.id)

    async def _audit(
        self,
        session: AsyncSession,
        user: StaffUser,
        action: str,
        workspace_id: str | None,
        **details: str,
    ) -> None:
        await audit.record(
            session,
            action,
            Actor(ActorType.staff, user.id),
            workspace_id=workspace_id,
            target_type="staff",
            target_id=user.id,
            details=dict(details),
        )


mfa = MfaService()
