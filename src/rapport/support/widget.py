"""The chat widget's visitors and their conversations: sessions, sends a resend never doubles,
catch-up after a place in the thread, read marks, and an email for an offline reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import hash_token, keyring, new_token
from rapport.core.realtime import publish_after_commit
from rapport.customers.service import customers
from rapport.identity.keys import sources
from rapport.identity.service import staff
from rapport.identity.verification import identity_verification
from rapport.support.enums import AuthorType, Channel, MessageKind
from rapport.support.errors import ConversationNotFound
from rapport.support.messages import read_message, write_message
from rapport.support.models import Message, WidgetClientMessage, WidgetThread, WidgetVisitor
from rapport.support.notify import announce
from rapport.support.schemas import Acting, ConversationCreate, MessageCreate
from rapport.support.service import PlannedPost, conversations
from rapport.support.widget_email import UNSEEN_FOR, thread_email_aad, visitor_email_aad
from rapport.support.widget_errors import (
    IdentityNotVerified,
    VisitorNotRecognised,
    WidgetKeyInvalid,
)
from rapport.support.widget_repository import (
    ClientMessageRepository,
    ThreadMessageRepository,
    ThreadRepository,
    VisitorLookup,
    VisitorRepository,
)
from rapport.support.widget_schemas import (
    QuickReply,
    Sent,
    Visitor,
    WidgetMessageCreate,
    WidgetMessageList,
    WidgetMessageRead,
    WidgetRead,
    WidgetSessionRead,
    WidgetStart,
)

# Someone used the console this recently: the widget says an agent is online.
PRESENCE_WINDOW = timedelta(minutes=5)
CATCH_UP_LIMIT = 100
VISITOR_TOKEN_PREFIX = "vt_"  # noqa: S105 (a prefix, not a secret)


# What the conversation's last message waits for, as buttons (the assistant's yes/no).
QuickReplies = Callable[[AsyncSession, str, str], Awaitable[list[QuickReply]]]
_quick_replies: list[QuickReplies] = []


def register_quick_replies(provider: QuickReplies) -> None:
    """Let another domain offer quick replies under a conversation's last message."""
    if provider not in _quick_replies:
        _quick_replies.append(provider)


def owner_topic(visitor: Visitor) -> str:
    """Return the realtime topic of everything a visitor owns (all devices of a customer)."""
    return f"widget:{visitor.user_index or visitor.id}"


class WidgetService:
    async def start(
        self, session: AsyncSession, body: WidgetStart
    ) -> tuple[Visitor, WidgetSessionRead]:
        """Recognise or register a visitor of a source (a verified customer when the shop's
        server signed their user id); return them with their current conversation."""
        source = await sources.by_write_key(session, body.write_key)
        if source is None:
            raise WidgetKeyInvalid("This write key is not valid.")
        workspace_id, source_id = source.workspace_id, source.id
        user_index = await _verified_user(
            session, workspace_id, source_id, body.user_id, body.user_hash
        )
        customer_id = None
        if user_index is not None and body.user_id is not None:
            customer_id = await customers.identified_by(
                session, workspace_id, "user_id", body.user_id
            )
        row, token = await _visitor_of(session, workspace_id, source_id, body.visitor_token)
        if row.user_index != user_index:
            row.email = None  # left by whoever was signed in (or not) on this browser before
        row.user_index, row.customer_id, row.last_seen_at = user_index, customer_id, utcnow()
        visitor = _visitor(row)
        thread = await ThreadRepository(session, visitor.workspace_id).latest_owned(
            visitor.id, user_index
        )
        last_seq = 0
        if thread is not None:
            conversation = await conversations.get(
                session, visitor.workspace_id, thread.conversation_id, _acting(visitor)
            )
            last_seq = conversation.message_seq
        return visitor, WidgetSessionRead(
            visitor_token=token,
            conversation_id=thread.conversation_id if thread else None,
            last_seq=last_seq,
            agent_read_seq=thread.agent_read_seq if thread else 0,
            agents_online=await self.agents_online(session, visitor.workspace_id),
            verified=user_index is not None,
            email_left=(thread.email if thread else row.email) is not None,
        )

    async def authenticate(self, session: AsyncSession, token: str) -> Visitor:
        """Return the visitor a token was issued to."""
        row = await VisitorLookup(session).by_token_hash(hash_token(token))
        if row is None:
            raise VisitorNotRecognised("Unknown visitor; start a new widget session.")
        return _visitor(row)

    async def agents_online(self, session: AsyncSession, workspace_id: str) -> bool:
        """Tell whether someone of the workspace is at the console now."""
        return await staff.someone_online(session, workspace_id, PRESENCE_WINDOW)

    async def send(
        self, session: AsyncSession, visitor: Visitor, body: WidgetMessageCreate
    ) -> Sent:
        """Store a visitor's message in their conversation (opening one if needed) once: a
        resend with the same client id returns the message stored the first time.

        Everything is read and checked first (the resend, the thread, the conversation); the
        visitor's lock (on SQLite: the writer) is taken only for the writes, and what could
        have changed meanwhile is checked again under it."""
        workspace_id = visitor.workspace_id
        clients = ClientMessageRepository(session, workspace_id)
        earlier = await self._earlier(session, visitor, body.client_id)
        if earlier is not None:
            return earlier
        thread = await self._thread(session, visitor, body.conversation_id)
        message = MessageCreate(kind=MessageKind.customer, body=body.body)
        planned = None if thread is None else await self._plan(session, visitor, thread, message)
        # One visitor's sends run one at a time from here.
        await VisitorRepository(session, workspace_id).locked(visitor.id)
        earlier = await self._earlier(session, visitor, body.client_id)
        if earlier is not None:  # the same message, stored by a send that ran meanwhile
            return earlier
        if thread is None:  # none was found: another tab or device may have opened one
            thread = await self._thread(session, visitor, None)
            if thread is not None:
                planned = await self._plan(session, visitor, thread, message)
        if planned is None:
            stored = await self._open(session, visitor, body.body)
        else:
            stored = await conversations.write_planned(session, planned)
        if stored is None:  # written in this transaction a moment ago
            raise ConversationNotFound("The conversation is gone.")
        await clients.add(
            WidgetClientMessage(
                visitor_id=visitor.id, client_id=body.client_id,
                conversation_id=stored.conversation_id, message_id=stored.id,
            )
        )  # fmt: skip
        return Sent(_read(stored, body.client_id), duplicate=False)

    async def _earlier(
        self, session: AsyncSession, visitor: Visitor, client_id: str
    ) -> Sent | None:
        """Return what a message with this client id became, if the visitor sent it before."""
        workspace_id = visitor.workspace_id
        earlier = await ClientMessageRepository(session, workspace_id).find(visitor.id, client_id)
        if earlier is None:
            return None
        stored = await ThreadMessageRepository(session, workspace_id).get(earlier.message_id)
        return None if stored is None else Sent(_read(stored, client_id), duplicate=True)

    async def _plan(
        self, session: AsyncSession, visitor: Visitor, thread: WidgetThread, message: MessageCreate
    ) -> PlannedPost:
        return await conversations.plan_post(
            session, visitor.workspace_id, thread.conversation_id, message, _acting(visitor)
        )

    async def messages(
        self,
        session: AsyncSession,
        visitor: Visitor,
        conversation_id: str | None,
        after_seq: int,
        limit: int = CATCH_UP_LIMIT,
    ) -> WidgetMessageList:
        """Return the public messages of a visitor's conversation after a place in it.

        A widget reads back after every push, so this is one statement when something new
        is there (the messages, their thread's ownership joined in) and two when nothing is
        (the ownership checked apart); client ids are looked up for the visitor's messages
        only (an agent's or the assistant's never have one)."""
        workspace_id = visitor.workspace_id
        messages = ThreadMessageRepository(session, workspace_id)
        if conversation_id is None:
            thread = await self._thread(session, visitor, None)
            if thread is None:
                return WidgetMessageList(conversation_id=None, items=[], more=False)
            conversation_id = thread.conversation_id
            rows = list(await messages.public_after(conversation_id, after_seq, limit + 1))
        else:
            rows = list(
                await messages.public_after_owned(
                    conversation_id, visitor.id, visitor.user_index, after_seq, limit + 1
                )
            )
            if not rows:
                await self._thread(session, visitor, conversation_id)  # raises if not theirs
        shown = rows[:limit]
        customers = [row.id for row in shown if row.author_type == AuthorType.customer]
        client_ids = await ClientMessageRepository(session, workspace_id).client_ids(customers)
        items = [_read(row, client_ids.get(row.id)) for row in shown]
        if items and len(rows) <= limit and items[-1].author_type == AuthorType.assistant:
            items[-1].quick_replies = await _offered(session, workspace_id, conversation_id)
        return WidgetMessageList(
            conversation_id=conversation_id, items=items, more=len(rows) > limit
        )

    async def mark_read(self, session: AsyncSession, visitor: Visitor, body: WidgetRead) -> None:
        """Record how far the visitor has read, and tell the console."""
        thread = await self._thread(session, visitor, body.conversation_id, for_update=True)
        if thread is None or body.seq <= thread.visitor_read_seq:
            return
        thread.visitor_read_seq = body.seq
        announce(
            session, "conversation.read", workspace_id=visitor.workspace_id,
            conversation_id=thread.conversation_id, event=False, by="customer", seq=body.seq,
        )  # fmt: skip

    async def mark_read_by_agent(
        self, session: AsyncSession, workspace_id: str, conversation_id: str, seq: int
    ) -> None:
        """Record how far agents have read a chat conversation, and tell the widget."""
        thread = await ThreadRepository(session, workspace_id).for_conversation(conversation_id)
        if thread is None or seq <= thread.agent_read_seq:
            return
        thread.agent_read_seq = seq
        announce(
            session, "conversation.read", workspace_id=workspace_id,
            conversation_id=conversation_id, event=False, by="agent", seq=seq,
        )  # fmt: skip

    async def leave_email(self, session: AsyncSession, visitor: Visitor, email: str) -> None:
        """Keep where to email the replies of the visitor's current conversation they do not
        see (sealed to its thread: the conversation's, never the browser's; support/
        widget_email.py) and tell agents in a private note. Before a first conversation it is
        kept on the visitor for the next one they open, until who is signed in changes."""
        thread = await self._thread(session, visitor, None)
        if thread is not None:
            await self._address_thread(session, visitor, thread.conversation_id, email)
            return
        row = await VisitorRepository(session, visitor.workspace_id).locked(visitor.id)
        if row is None:
            raise VisitorNotRecognised("Unknown visitor; start a new widget session.")
        row.email = keyring().encrypt(email, visitor_email_aad(row.id))

    async def _address_thread(
        self, session: AsyncSession, visitor: Visitor, conversation_id: str, email: str
    ) -> None:
        acting = _acting(visitor)
        conversation = await conversations.get_for_change(
            session, visitor.workspace_id, conversation_id, acting
        )
        thread = await ThreadRepository(session, visitor.workspace_id).for_conversation(
            conversation_id
        )
        if thread is None:
            raise ConversationNotFound("No such conversation for this visitor.")
        thread.email = keyring().encrypt(email, thread_email_aad(thread.id))
        minutes = int(UNSEEN_FOR.total_seconds() // 60)
        text = (
            f"No agent was online; the customer left {email}. Agents' replies they have not "
            f"read in the chat {minutes} minutes later are emailed there."
        )
        await write_message(
            session, conversation, AuthorType.system, "system", text, acting=acting, private=True
        )

    async def _thread(
        self,
        session: AsyncSession,
        visitor: Visitor,
        conversation_id: str | None,
        *,
        for_update: bool = False,
    ) -> WidgetThread | None:
        threads = ThreadRepository(session, visitor.workspace_id)
        if conversation_id is None:
            return await threads.latest_owned(visitor.id, visitor.user_index)
        thread = await threads.owned(
            conversation_id, visitor.id, visitor.user_index, for_update=for_update
        )
        if thread is None:
            raise ConversationNotFound("No such conversation for this visitor.")
        return thread

    async def _open(self, session: AsyncSession, visitor: Visitor, text: str) -> Message | None:
        first = MessageCreate(kind=MessageKind.customer, body=text)
        # The API's shape opens API channels only; the widget's conversations are chats.
        body = ConversationCreate(message=first, customer_id=visitor.customer_id).model_copy(
            update={"channel": Channel.chat}
        )
        conversation = await conversations.create(
            session, visitor.workspace_id, body, _acting(visitor)
        )
        await ThreadRepository(session, visitor.workspace_id).add(
            WidgetThread(
                conversation_id=conversation.id, visitor_id=visitor.id,
                user_index=visitor.user_index, visitor_read_seq=0, agent_read_seq=0,
            )
        )  # fmt: skip
        publish_after_commit(
            session, visitor.workspace_id, owner_topic(visitor),
            {"type": "widget.conversation", "conversation_id": conversation.id},
        )  # fmt: skip
        row = await VisitorRepository(session, visitor.workspace_id).locked(visitor.id)
        if row is not None and row.email is not None:  # left before this first conversation
            email = keyring().decrypt(row.email, visitor_email_aad(row.id))
            row.email = None
            await self._address_thread(session, visitor, conversation.id, email)
        return await ThreadMessageRepository(session, visitor.workspace_id).latest(conversation.id)


async def _verified_user(
    session: AsyncSession,
    workspace_id: str,
    source_id: str,
    user_id: str | None,
    user_hash: str | None,
) -> str | None:
    """Return the blind index of a user id the shop's server signed; None without one."""
    if user_id is None:
        return None
    if not await identity_verification.verifies(
        session, workspace_id, source_id, user_id, user_hash
    ):
        raise IdentityNotVerified("The user id is not signed by the shop's identity secret.")
    return keyring().blind_index(user_id, f"widget.user:{workspace_id}")


async def _visitor_of(
    session: AsyncSession, workspace_id: str, source_id: str, token: str | None
) -> tuple[WidgetVisitor, str]:
    """Return the visitor a token names on this source, or a new one with a new token."""
    if token is not None:
        row = await VisitorLookup(session).by_token_hash(hash_token(token))
        if row is not None and row.source_id == source_id:
            return row, token
    token = new_token(VISITOR_TOKEN_PREFIX, 24)
    row = await VisitorRepository(session, workspace_id).add(
        WidgetVisitor(source_id=source_id, token_hash=hash_token(token), last_seen_at=utcnow())
    )
    return row, token


async def _offered(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> list[QuickReply]:
    """Return the quick replies the conversation's last message waits for, if any."""
    for provider in _quick_replies:
        offered = await provider(session, workspace_id, conversation_id)
        if offered:
            return offered
    return []


def _visitor(row: WidgetVisitor) -> Visitor:
    return Visitor(row.id, row.workspace_id, row.source_id, row.user_index, row.customer_id)


def _acting(visitor: Visitor) -> Acting:
    return Acting(actor=visitor.actor)


def _read(message: Message, client_id: str | None) -> WidgetMessageRead:
    opened = read_message(message)
    return WidgetMessageRead(
        seq=message.seq,
        id=message.id,
        conversation_id=message.conversation_id,
        author_type=message.author_type,
        body=opened.body,
        client_id=client_id,
        created_at=message.created_at,
    )


widget = WidgetService()
