"""Canned responses: shared or personal replies found by shortcut, their `{{variables}}`
filled from the conversation, its customer, their last order and the agent."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import take_writer
from rapport.customers.errors import CustomerNotFound
from rapport.customers.service import customers
from rapport.events.service import events
from rapport.identity.service import staff
from rapport.support.canned_variables import fill, first_word, last_words, unknown_variables
from rapport.support.models import Conversation
from rapport.support.schemas import Acting
from rapport.support.service import conversations
from rapport.support.tools_errors import CannedResponseNotFound, NameTaken, UnknownVariable
from rapport.support.tools_models import CannedResponse
from rapport.support.tools_ownership import check_may_change, owner_for
from rapport.support.tools_repository import CannedResponseRepository
from rapport.support.tools_schemas import CannedResponseWrite, RenderedResponse


class CannedResponseService:
    async def list(
        self, session: AsyncSession, workspace_id: str, acting: Acting, search: str | None = None
    ) -> list[CannedResponse]:
        """Return the canned responses the caller may use; with `search`, the best matches."""
        repository = CannedResponseRepository(session, workspace_id)
        return list(await repository.listed(acting.staff_id, (search or "").strip().lower()))

    async def get(
        self, session: AsyncSession, workspace_id: str, canned_id: str, acting: Acting
    ) -> CannedResponse:
        """Return a canned response the caller may use."""
        repository = CannedResponseRepository(session, workspace_id)
        found = await repository.usable(canned_id, acting.staff_id)
        if found is None:
            raise CannedResponseNotFound("No such canned response in this workspace.")
        return found

    async def create(
        self,
        session: AsyncSession,
        workspace_id: str,
        body: CannedResponseWrite,
        acting: Acting,
        may_share: bool,
    ) -> CannedResponse:
        """Add a canned response, shared or the caller's own."""
        owner_id = owner_for(body.shared, acting, may_share)
        await self._check(session, workspace_id, body, owner_id, None)
        canned = CannedResponse(
            owner_id=owner_id, shortcut=body.shortcut, title=body.title, body=body.body
        )
        return await CannedResponseRepository(session, workspace_id).add(canned)

    async def replace(
        self,
        session: AsyncSession,
        workspace_id: str,
        canned_id: str,
        body: CannedResponseWrite,
        acting: Acting,
        may_share: bool,
    ) -> CannedResponse:
        """Change a canned response (sharing it, or taking it back, when allowed)."""
        canned = await self.get(session, workspace_id, canned_id, acting)
        check_may_change(canned, acting, may_share)
        owner_id = owner_for(body.shared, acting, may_share)
        await self._check(session, workspace_id, body, owner_id, canned.id)
        canned.owner_id, canned.shortcut = owner_id, body.shortcut
        canned.title, canned.body = body.title, body.body
        return canned

    async def delete(
        self,
        session: AsyncSession,
        workspace_id: str,
        canned_id: str,
        acting: Acting,
        may_share: bool,
    ) -> None:
        """Delete a canned response (macros that send it then fail until changed)."""
        canned = await self.get(session, workspace_id, canned_id, acting)
        check_may_change(canned, acting, may_share)
        await CannedResponseRepository(session, workspace_id).delete(canned)

    async def render(
        self,
        session: AsyncSession,
        workspace_id: str,
        canned_id: str,
        conversation_id: str,
        acting: Acting,
    ) -> RenderedResponse:
        """Return a canned response's text filled for a conversation the caller may see."""
        canned = await self.get(session, workspace_id, canned_id, acting)
        conversation = await conversations.get(session, workspace_id, conversation_id, acting)
        text = await self.fill_for(session, canned, conversation, acting)
        return RenderedResponse(id=canned.id, text=text)

    async def fill_for(
        self,
        session: AsyncSession,
        canned: CannedResponse,
        conversation: Conversation,
        acting: Acting,
    ) -> str:
        """Return a canned response's text with the conversation's values filled in."""
        values = await _values(session, conversation, acting)
        return fill(canned.body, values)

    async def _check(
        self,
        session: AsyncSession,
        workspace_id: str,
        body: CannedResponseWrite,
        owner_id: str | None,
        own_id: str | None,
    ) -> None:
        unknown = unknown_variables(body.body)
        if unknown:
            raise UnknownVariable(f"Unknown variable(s): {', '.join(unknown)}.")
        await take_writer(session)  # the shortcut check and the write form one write
        repository = CannedResponseRepository(session, workspace_id)
        same = await repository.with_shortcut(owner_id, body.shortcut)
        if same is not None and same.id != own_id:
            raise NameTaken(f"The shortcut /{body.shortcut} is already in use.")


async def _values(
    session: AsyncSession, conversation: Conversation, acting: Acting
) -> dict[str, str | None]:
    """Gather every variable's value for one conversation (missing ones are None)."""
    workspace_id = conversation.workspace_id
    names = await staff.names(session, workspace_id)
    agent = names.get(acting.staff_id or "")
    values: dict[str, str | None] = {
        "agent.name": agent,
        "agent.first_name": first_word(agent),
        "conversation.id": conversation.id,
        "conversation.channel": str(conversation.channel),
    }
    if conversation.customer_id is not None:
        values.update(await _customer_values(session, workspace_id, conversation.customer_id))
    return values


async def _customer_values(
    session: AsyncSession, workspace_id: str, customer_id: str
) -> dict[str, str | None]:
    try:
        customer = await customers.get(session, workspace_id, customer_id)
    except CustomerNotFound:
        return {}
    traits = {name: trait.value for name, trait in customer.traits.items()}
    name = _text(traits.get("name")) or " ".join(
        part for part in (_text(traits.get("first_name")), _text(traits.get("last_name"))) if part
    )
    page = await events.orders_page(session, workspace_id, customer.id, cursor=None, limit=1)
    last = page.items[0] if page.items else None
    return {
        "customer.name": name or None,
        "customer.first_name": _text(traits.get("first_name")) or first_word(name),
        "customer.last_name": _text(traits.get("last_name")) or last_words(name),
        "customer.email": _text(traits.get("email")),
        "order.last.number": last.order_key if last else None,
        "order.last.status": str(last.status) if last else None,
    }


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


canned_responses = CannedResponseService()
