"""The demo shop's assistant through the real widget WebSocket, with the shipped models: a
newcomer asks where order 1001 is, cancels order 1002 with a "yes", and asks for a human."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rapport.app import create_app
from rapport.assistant.demo import DEMO_CUSTOMER_EMAIL, DEMO_INTENT, DEMO_USER_ID, seed_demo
from rapport.assistant.knowledge import use_search
from rapport.assistant.labels import use_models
from rapport.config import Settings
from rapport.customers.service import customers
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.identity.models import Source, Workspace
from rapport.identity.verification import identity_verification, user_hash
from rapport.knowledge.demo import seed_demo as seed_articles
from rapport.worker.runner import Worker
from tests.fixtures.identity import make_source, make_staff, make_workspace
from tests.fixtures.sessions import sign_in


@pytest.fixture
def test_client(settings: Settings) -> Iterator[TestClient]:
    """A client that runs the app on its own event loop, with the shipped models."""
    use_models(None)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


def _demo_shop(client: TestClient, runs: int = 1, articles: bool = False) -> Source:
    async def setup() -> Source:
        database = client.app.state.database  # type: ignore[attr-defined]
        source = await make_source(database, await make_workspace(database, "demo"))
        for _ in range(runs):  # `rapport demo` may run again
            async with database.session() as session:
                await seed_demo(session, source.workspace_id)
        if articles:  # `rapport demo` adds the sample knowledge base too
            async with database.session() as session:
                await seed_articles(session, source.workspace_id)
        return source

    assert client.portal is not None
    return client.portal.call(setup)


def _work(client: TestClient) -> None:
    async def drain() -> None:
        await Worker(client.app.state.database, concurrency=1).run_pending()  # type: ignore[attr-defined]

    assert client.portal is not None
    client.portal.call(drain)


def _ask(client: TestClient, websocket: Any, number: int, text: str) -> str:
    """Send a message, let the worker run, return the assistant's public answer."""
    websocket.send_json({"type": "message", "client_id": f"client-{number:04d}", "body": text})
    while websocket.receive_json()["type"] != "ack":
        pass  # stored: its job is queued
    _work(client)
    while True:
        frame: dict[str, Any] = websocket.receive_json()
        if frame["type"] == "message" and frame["message"]["author_type"] == "assistant":
            return str(frame["message"]["body"])


def test_a_newcomer_tracks_cancels_and_reaches_a_human(test_client: TestClient) -> None:
    source = _demo_shop(test_client, runs=2)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        assert websocket.receive_json()["type"] == "ready"
        asked = _ask(test_client, websocket, 1, "Hi, where is my order 1001?")
        assert asked == "To check it's your order, what email address did you order with?"
        status = _ask(test_client, websocket, 2, DEMO_CUSTOMER_EMAIL)
        assert status.startswith("Order 1001 (placed ") and "shipped on" in status
        question = _ask(test_client, websocket, 3, "Please cancel order 1002")
        assert question == (
            'Shall I cancel order 1002 (49.00 EUR)? Reply "yes" to confirm or "no" to leave it.'
        )
        assert _ask(test_client, websocket, 4, "yes") == (
            "Order 1002 is cancelled. Anything else I can help with?"
        )
        # Nobody is at the console: no promise of a quick reply.
        assert _ask(test_client, websocket, 5, "can I talk to a human please") == (
            "I'm passing you to a colleague. No one is online right now, so they will reply "
            "here as soon as they are back."
        )


def test_with_someone_at_the_console_a_colleague_replies_shortly(test_client: TestClient) -> None:
    source = _demo_shop(test_client)

    async def at_the_console() -> None:
        database = test_client.app.state.database  # type: ignore[attr-defined]
        async with database.session() as session:
            workspace = await session.get(Workspace, source.workspace_id)
        assert workspace is not None
        await sign_in(database, await make_staff(database, workspace, Role.agent))

    assert test_client.portal is not None
    test_client.portal.call(at_the_console)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        assert websocket.receive_json()["agents_online"] is True
        assert _ask(test_client, websocket, 1, "can I talk to a human please") == (
            "I'm passing you to a colleague who will reply here shortly."
        )


def test_a_signed_in_customer_is_told_about_their_order_at_once(test_client: TestClient) -> None:
    source = _demo_shop(test_client)

    async def signature() -> str:
        async with test_client.app.state.database.session() as session:  # type: ignore[attr-defined]
            secret = await identity_verification.secret(
                session, workspace_id=source.workspace_id, source_id=source.id, actor=SYSTEM
            )
        return user_hash(secret, DEMO_USER_ID)

    assert test_client.portal is not None
    signed = test_client.portal.call(signature)
    with test_client.websocket_connect("/widget/ws") as websocket:
        hello = {"type": "hello", "write_key": source.write_key}
        websocket.send_json({**hello, "user_id": DEMO_USER_ID, "user_hash": signed})
        assert websocket.receive_json()["verified"] is True
        status = _ask(test_client, websocket, 1, "Hi, where is my order 1001?")
        assert status.startswith("Order 1001 (placed ") and "shipped on" in status


def test_an_answer_from_an_article_links_to_the_help_centre_in_full(
    test_client: TestClient, settings: Settings
) -> None:
    use_search(None)  # the knowledge base's own search (the suite fakes it)
    source = _demo_shop(test_client, articles=True)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        assert websocket.receive_json()["type"] == "ready"
        answer = _ask(test_client, websocket, 1, "How long does shipping take?")
    link = answer.rsplit("More: ", 1)[1].split()[0]
    assert link.startswith(f"{settings.base_url.rstrip('/')}/help/demo/en/"), answer
    assert test_client.get(link.removeprefix(settings.base_url.rstrip("/"))).status_code == 200


def test_the_demo_customers_profile_counts_her_orders(test_client: TestClient) -> None:
    source = _demo_shop(test_client, runs=2)

    async def profile() -> tuple[int, str]:
        async with test_client.app.state.database.session() as session:  # type: ignore[attr-defined]
            found = await customers.identified_by(
                session, source.workspace_id, "user_id", DEMO_USER_ID
            )
            assert found is not None
            read = await customers.get(session, source.workspace_id, found)
        return read.orders_count, str(read.revenue)

    assert test_client.portal is not None
    assert test_client.portal.call(profile) == (2, "98.00")


def test_the_demo_shop_answers_its_own_gift_wrap_question(test_client: TestClient) -> None:
    source = _demo_shop(test_client, runs=2)  # a second run adds no second intent
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        assert websocket.receive_json()["type"] == "ready"
        assert _ask(test_client, websocket, 1, "Hello! Can you gift wrap it for me?") == (
            DEMO_INTENT.answer
        )
        assert _ask(test_client, websocket, 2, "no thanks") == "Glad I could help. Have a nice day!"
    with test_client.websocket_connect("/widget/ws") as websocket:  # a new chat, in French
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        assert websocket.receive_json()["type"] == "ready"
        asked = "Bonjour, pouvez-vous faire un paquet cadeau pour ma mère ?"
        assert _ask(test_client, websocket, 1, asked) == DEMO_INTENT.translations["fr"]


def test_a_french_customer_is_answered_in_french(test_client: TestClient) -> None:
    use_search(None)  # the knowledge base's own search (the suite fakes it)
    source = _demo_shop(test_client, articles=True)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        assert websocket.receive_json()["type"] == "ready"
        asked = _ask(test_client, websocket, 1, "Bonjour, où en est ma commande 1001 ?")
        assert asked == (
            "Pour vérifier qu'il s'agit bien de votre commande, avec quelle adresse e-mail "
            "avez-vous commandé ?"
        )
        status = _ask(test_client, websocket, 2, DEMO_CUSTOMER_EMAIL)
        assert status.startswith("La commande 1001 (passée le ") and "expédiée le" in status
        question = _ask(test_client, websocket, 3, "Je voudrais annuler la commande 1002")
        assert question == (
            "Dois-je annuler la commande 1002 (49,00 EUR) ? Répondez « oui » pour confirmer "
            "ou « non » pour ne rien changer."
        )
        assert _ask(test_client, websocket, 4, "oui") == (
            "La commande 1002 est annulée. Puis-je vous aider pour autre chose ?"
        )
        answer = _ask(test_client, websocket, 5, "Combien de jours pour une livraison en France ?")
        assert answer.startswith("Livraison : délais et frais: ")  # the French article
        assert answer.endswith("\nPuis-je vous aider pour autre chose ?")
        assert _ask(test_client, websocket, 6, "je veux parler à un conseiller") == (
            "Je vous passe à un collègue. Personne n'est en ligne pour le moment : il vous "
            "répondra ici dès son retour."
        )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Wie lange dauert der Versand nach Österreich?",
            "Versand: Lieferzeiten und Kosten: Die Lieferung dauert:\n"
            "- Deutschland: 1-2 Werktage, 4,90 €, ab 50 € kostenlos\n"
            "- EU: 3-5 Werktage, 9,90 €, ab 100 € kostenlos\n"
            "- Weltweit: 5-10 Werktage, ab 19,90 €\n…\n"
            "Mehr dazu: http://127.0.0.1:8000/help/demo/de/versand\n"
            "Kann ich Ihnen sonst noch helfen?",
        ),
        (
            "Was kostet der Versand?",  # was read as a refund request: "Which order?"
            "Versand: Lieferzeiten und Kosten: Wir versenden werktags aus unserem Lager in "
            "Hamburg. Die Lieferung dauert:\n"
            "- Deutschland: 1-2 Werktage, 4,90 €, ab 50 € kostenlos\n"
            "- EU: 3-5 Werktage, 9,90 €, ab 100 € kostenlos\n"
            "- Weltweit: 5-10 Werktage, ab 19,90 €\n…\n"
            "Mehr dazu: http://127.0.0.1:8000/help/demo/de/versand\n"
            "Kann ich Ihnen sonst noch helfen?",
        ),
        (
            "Wie viel kostet die Tasche?",
            "Canvas-Tasche — Preis: 49,00 €\nKann ich Ihnen sonst noch helfen?",
        ),
        (
            "¿Aceptan PayPal?",  # too short to be sure of, but for its "¿"
            "Formas de pago: Aceptamos Visa, Mastercard, American Express, PayPal, Klarna "
            "(pago a 30 días) y transferencia bancaria. Su tarjeta se cobra cuando se envía el "
            "pedido.\nLa factura va adjunta a la confirmación de envío; pídala en el chat y se "
            "la enviamos de nuevo.\n"
            "Más información: http://127.0.0.1:8000/help/demo/es/formas-de-pago\n"
            "¿Puedo ayudarle en algo más?",
        ),
        (
            "¿Qué talla debo elegir?",
            "Guía de tallas: Nuestras camisas siguen las tallas europeas.\n"
            "Talla | Contorno de pecho (cm) | Largo (cm)\nS | 92-96 | 72\nM | 100-104 | 74\n"
            "L | 108-112 | 76\nXL | 116-120 | 78\n"
            "¿Entre dos tallas? Elija la mayor: el lino cede pero nunca se estira. El corte es "
            "clásico; el cambio por otra talla es gratuito.\n"
            "Más información: http://127.0.0.1:8000/help/demo/es/guia-de-tallas\n"
            "¿Puedo ayudarle en algo más?",
        ),
    ],
)
def test_german_and_spanish_questions_get_their_articles_and_facts(
    test_client: TestClient, question: str, expected: str
) -> None:
    # The German shipping question got the returns article ("nach Lieferung"), the Spanish
    # ones the shipping article's last sentence ("en cuanto") or English words, the product
    # questions a request to rephrase; a list came out as one run-on line.
    use_search(None)  # the knowledge base's own search (the suite fakes it)
    source = _demo_shop(test_client, articles=True)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        assert websocket.receive_json()["type"] == "ready"
        assert _ask(test_client, websocket, 1, question) == expected


def test_the_demo_shop_answers_product_questions_from_its_fact_sheets(
    test_client: TestClient,
) -> None:
    use_search(None)  # the knowledge base's own search (the suite fakes it)
    source = _demo_shop(test_client, articles=True)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        assert websocket.receive_json()["type"] == "ready"
        assert _ask(test_client, websocket, 1, "Is the linen shirt machine washable?") == (
            "Linen shirt — Care: machine wash at 30 °C, line dry, iron while damp\n"
            "Anything else I can help with?"
        )
        assert _ask(test_client, websocket, 2, "How much is the canvas tote bag?") == (
            "Canvas tote bag — Price: €49.00\nAnything else I can help with?"
        )
    with test_client.websocket_connect("/widget/ws") as websocket:  # a new chat, in Spanish
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        assert websocket.receive_json()["type"] == "ready"
        answer = _ask(test_client, websocket, 1, "¿Qué tallas tiene la camisa de lino?")
        assert answer == (
            "Camisa de lino — Tallas: XS, S, M, L, XL y XXL; corte holgado, elija su talla "
            "habitual\n¿Puedo ayudarle en algo más?"
        )
