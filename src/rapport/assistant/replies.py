"""What the assistant says, in the languages it speaks (English, French, German, Spanish).

A conversation is answered in the last of these languages its customer wrote in (surely
enough to tell, `labels.label_text`), English until then. Knowledge-base answers come from the
article in the customer's language when one exists; the workspace's own answers (custom
intents) are said as the workspace wrote them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from rapport.assistant.enums import ActionKind
from rapport.events.order_actions import UNFULFILLED, OrderFacts

ENGLISH_CODE = "en"


@dataclass(frozen=True)
class Phrases:
    """Everything the assistant says, in one language. `{order}`, `{total}`, `{address}`,
    `{question}`, `{date}`, `{placed}`, `{where}` and `{url}` are filled in when said."""

    handing_off: str
    handing_off_later: str  # nobody at the console now
    switched_off: str  # the assistant was switched off for the channel mid-conversation
    clarify: str
    not_mine: str
    not_mine_later: str
    ask_order: str
    ask_email: str
    ask_address: str
    not_found: str
    declined: str
    goodbye: str
    action_failed: str
    anything_else: str
    more: str
    asking: str  # the yes/no question around what an action does: {question}
    questions: Mapping[str, str]
    done_actions: Mapping[str, str]
    summary: str
    where: Mapping[str, str]  # cancelled, preparing, delivered, shipped, shipped_recently
    return_requested: str
    refusals: Mapping[str, str]
    yes: tuple[str, str]  # the quick reply's label, and the text a tap sends
    no: tuple[str, str]
    date_format: str
    decimal_comma: bool

    def article(self, title: str, snippet: str, url: str) -> str:
        """Answer with a knowledge-base article or a product's facts (a link when it has one)."""
        more = f"{self.more.format(url=url)}\n" if url else ""
        return f"{title}: {snippet}\n{more}{self.anything_else}"

    def status(self, facts: OrderFacts) -> str:
        """Say where an order stands."""
        if facts.status == "cancelled":
            where = self.where["cancelled"]
        elif facts.fulfillment_status == UNFULFILLED:
            where = self.where["preparing"]
        elif facts.fulfillment_status == "delivered":
            where = self.where["delivered"]
        elif facts.shipped_at is not None:
            where = self.where["shipped"].format(date=self._date(facts.shipped_at))
        else:
            where = self.where["shipped_recently"]
        summary = self.summary.format(
            order=facts.order_key,
            placed=self._date(facts.placed_at),
            total=self._total(facts),
            where=where,
        )
        extra = f" {self.return_requested}" if facts.return_requested else ""
        return f"{summary}{extra}\n{self.anything_else}"

    def ineligible(self, task: str | None, facts: OrderFacts) -> str | None:
        """Say why an action cannot be done to this order, or None when it can."""
        order = facts.order_key
        if facts.status == "cancelled":
            refusal = "cancelled"
        elif task == ActionKind.cancel_order and facts.fulfillment_status != UNFULFILLED:
            refusal = "cancel_shipped"
        elif task == ActionKind.change_address and facts.fulfillment_status != UNFULFILLED:
            refusal = "address_dispatched"
        elif task == ActionKind.request_return and facts.fulfillment_status == UNFULFILLED:
            refusal = "return_unshipped"
        elif task == ActionKind.request_return and facts.return_requested:
            refusal = "return_requested"
        else:
            return None
        said = self.refusals[refusal].format(order=order)
        if refusal in ("cancelled", "return_requested"):  # nothing to offer instead
            said = f"{said} {self.anything_else}"
        return said

    def confirm(self, task: str, facts: OrderFacts, address: str | None) -> str:
        """Ask the customer to confirm an action."""
        question = self.questions[ActionKind(task)].format(
            order=facts.order_key, total=self._total(facts), address=address or ""
        )
        return self.asking.format(question=question)

    def done(self, kind: str, facts: OrderFacts) -> str:
        """Say that a confirmed action ran."""
        done = self.done_actions[ActionKind(kind)].format(order=facts.order_key)
        return f"{done} {self.anything_else}"

    def _total(self, facts: OrderFacts) -> str:
        amount = f"{facts.total:.2f}"
        return f"{amount.replace('.', ',') if self.decimal_comma else amount} {facts.currency}"

    def _date(self, moment: datetime) -> str:
        return moment.date().strftime(self.date_format)


ENGLISH = Phrases(
    handing_off="I'm passing you to a colleague who will reply here shortly.",
    handing_off_later=(
        "I'm passing you to a colleague. No one is online right now, so they will reply here "
        "as soon as they are back."
    ),
    switched_off="I'm passing you to a colleague.",
    clarify=(
        "Sorry, I didn't quite get that. I can tell you where an order is, cancel or return "
        "it, change its delivery address, resend an invoice, or answer questions about "
        "shipping, returns, payment and sizes. Could you say it another way?"
    ),
    not_mine=(
        "That's something I can't sort out myself, so I'm passing you to a colleague who "
        "will reply here shortly."
    ),
    not_mine_later=(
        "That's something I can't sort out myself, so I'm passing you to a colleague. No one is "
        "online right now, so they will reply here as soon as they are back."
    ),
    ask_order="Sure. What is the order number?",
    ask_email="To check it's your order, what email address did you order with?",
    ask_address="What is the new delivery address?",
    not_found=(
        "I couldn't find that order for that email address. Could you check the order number "
        "and send it again?"
    ),
    declined="All right, I've left the order as it is. Anything else I can help with?",
    goodbye="Glad I could help. Have a nice day!",
    action_failed="I couldn't complete that.",
    anything_else="Anything else I can help with?",
    more="More: {url}",
    asking='Shall I {question}? Reply "yes" to confirm or "no" to leave it.',
    questions={
        ActionKind.cancel_order: "cancel order {order} ({total})",
        ActionKind.change_address: "change the delivery address of order {order} to: {address}",
        ActionKind.request_return: (
            "start a return and refund request for order {order} ({total})"
        ),
        ActionKind.resend_invoice: "email the invoice of order {order} to the address you gave",
    },
    done_actions={
        ActionKind.cancel_order: "Order {order} is cancelled.",
        ActionKind.change_address: "Order {order} will be delivered to the new address.",
        ActionKind.request_return: (
            "Your return request for order {order} is registered; we'll email the return label."
        ),
        ActionKind.resend_invoice: "The invoice of order {order} is on its way to your inbox.",
    },
    summary="Order {order} (placed {placed}, {total}) {where}.",
    where={
        "cancelled": "was cancelled",
        "preparing": "is being prepared and has not shipped yet",
        "delivered": "has been delivered",
        "shipped": "shipped on {date} and is on its way",
        "shipped_recently": "shipped recently and is on its way",
    },
    return_requested="A return is requested for it.",
    refusals={
        "cancelled": "Order {order} is already cancelled.",
        "cancel_shipped": (
            "Order {order} has already shipped, so it can't be cancelled; I can start a return."
        ),
        "address_dispatched": (
            "Order {order} has already been dispatched, so its address can't change now."
        ),
        "return_unshipped": "Order {order} hasn't shipped yet; I can cancel it instead.",
        "return_requested": "A return is already requested for order {order}.",
    },
    yes=("Yes", "yes"),
    no=("No", "no"),
    date_format="%Y-%m-%d",
    decimal_comma=False,
)

FRENCH = Phrases(
    handing_off="Je vous passe à un collègue qui vous répondra ici très vite.",
    handing_off_later=(
        "Je vous passe à un collègue. Personne n'est en ligne pour le moment : il vous "
        "répondra ici dès son retour."
    ),
    switched_off="Je vous passe à un collègue.",
    clarify=(
        "Désolé, je n'ai pas bien compris. Je peux vous dire où en est une commande, "
        "l'annuler ou la retourner, changer son adresse de livraison, renvoyer une facture, "
        "ou répondre à vos questions sur la livraison, les retours, le paiement et les "
        "tailles. Pourriez-vous le dire autrement ?"
    ),
    not_mine=(
        "Je ne peux pas régler cela moi-même, je vous passe donc à un collègue qui vous "
        "répondra ici très vite."
    ),
    not_mine_later=(
        "Je ne peux pas régler cela moi-même, je vous passe donc à un collègue. Personne n'est "
        "en ligne pour le moment : il vous répondra ici dès son retour."
    ),
    ask_order="Bien sûr. Quel est le numéro de commande ?",
    ask_email=(
        "Pour vérifier qu'il s'agit bien de votre commande, avec quelle adresse e-mail "
        "avez-vous commandé ?"
    ),
    ask_address="Quelle est la nouvelle adresse de livraison ?",
    not_found=(
        "Je n'ai pas trouvé cette commande pour cette adresse e-mail. Pourriez-vous vérifier "
        "le numéro de commande et me le renvoyer ?"
    ),
    declined=("Entendu, je laisse la commande telle quelle. Puis-je vous aider pour autre chose ?"),
    goodbye="Ravi d'avoir pu vous aider. Bonne journée !",
    action_failed="Je n'ai pas pu aller au bout de cette opération.",
    anything_else="Puis-je vous aider pour autre chose ?",
    more="En savoir plus : {url}",
    asking="Dois-je {question} ? Répondez « oui » pour confirmer ou « non » pour ne rien changer.",
    questions={
        ActionKind.cancel_order: "annuler la commande {order} ({total})",
        ActionKind.change_address: (
            "changer l'adresse de livraison de la commande {order} pour : {address}"
        ),
        ActionKind.request_return: (
            "ouvrir une demande de retour et de remboursement pour la commande {order} ({total})"
        ),
        ActionKind.resend_invoice: (
            "envoyer la facture de la commande {order} à l'adresse e-mail que vous m'avez donnée"
        ),
    },
    done_actions={
        ActionKind.cancel_order: "La commande {order} est annulée.",
        ActionKind.change_address: "La commande {order} sera livrée à la nouvelle adresse.",
        ActionKind.request_return: (
            "Votre demande de retour pour la commande {order} est enregistrée ; nous vous "
            "enverrons l'étiquette de retour par e-mail."
        ),
        ActionKind.resend_invoice: (
            "La facture de la commande {order} est en route vers votre boîte de réception."
        ),
    },
    summary="La commande {order} (passée le {placed}, {total}) {where}.",
    where={
        "cancelled": "a été annulée",
        "preparing": "est en préparation et n'a pas encore été expédiée",
        "delivered": "a été livrée",
        "shipped": "a été expédiée le {date} et est en route",
        "shipped_recently": "a été expédiée récemment et est en route",
    },
    return_requested="Un retour a été demandé pour cette commande.",
    refusals={
        "cancelled": "La commande {order} est déjà annulée.",
        "cancel_shipped": (
            "La commande {order} a déjà été expédiée, elle ne peut donc plus être annulée ; "
            "je peux ouvrir un retour."
        ),
        "address_dispatched": (
            "La commande {order} est déjà partie, son adresse ne peut donc plus changer."
        ),
        "return_unshipped": (
            "La commande {order} n'a pas encore été expédiée ; je peux plutôt l'annuler."
        ),
        "return_requested": "Un retour est déjà demandé pour la commande {order}.",
    },
    yes=("Oui", "oui"),
    no=("Non", "non"),
    date_format="%d/%m/%Y",
    decimal_comma=True,
)

GERMAN = Phrases(
    handing_off="Ich leite Sie an ein Teammitglied weiter, das Ihnen hier in Kürze antwortet.",
    handing_off_later=(
        "Ich leite Sie an ein Teammitglied weiter. Gerade ist niemand online; Sie bekommen "
        "hier eine Antwort, sobald jemand zurück ist."
    ),
    switched_off="Ich leite Sie an ein Teammitglied weiter.",
    clarify=(
        "Entschuldigung, das habe ich nicht ganz verstanden. Ich kann Ihnen sagen, wo eine "
        "Bestellung ist, sie stornieren oder zurücksenden, ihre Lieferadresse ändern, eine "
        "Rechnung erneut senden oder Fragen zu Versand, Rücksendungen, Zahlung und Größen "
        "beantworten. Könnten Sie es anders formulieren?"
    ),
    not_mine=(
        "Das kann ich nicht selbst erledigen, deshalb leite ich Sie an ein Teammitglied "
        "weiter, das Ihnen hier in Kürze antwortet."
    ),
    not_mine_later=(
        "Das kann ich nicht selbst erledigen, deshalb leite ich Sie an ein Teammitglied weiter. "
        "Gerade ist niemand online; Sie bekommen hier eine Antwort, sobald jemand zurück ist."
    ),
    ask_order="Gern. Wie lautet die Bestellnummer?",
    ask_email=(
        "Damit ich prüfen kann, dass es Ihre Bestellung ist: Mit welcher E-Mail-Adresse haben "
        "Sie bestellt?"
    ),
    ask_address="Wie lautet die neue Lieferadresse?",
    not_found=(
        "Ich konnte diese Bestellung zu dieser E-Mail-Adresse nicht finden. Könnten Sie die "
        "Bestellnummer prüfen und sie noch einmal senden?"
    ),
    declined=(
        "In Ordnung, ich lasse die Bestellung, wie sie ist. Kann ich Ihnen sonst noch helfen?"
    ),
    goodbye="Schön, dass ich helfen konnte. Einen schönen Tag noch!",
    action_failed="Das konnte ich leider nicht abschließen.",
    anything_else="Kann ich Ihnen sonst noch helfen?",
    more="Mehr dazu: {url}",
    asking=(
        "Soll ich {question}? Antworten Sie „ja“ zum Bestätigen oder „nein“, um nichts zu ändern."
    ),
    questions={
        ActionKind.cancel_order: "die Bestellung {order} ({total}) stornieren",
        ActionKind.change_address: (
            "die Lieferadresse der Bestellung {order} ändern in: {address}"
        ),
        ActionKind.request_return: (
            "eine Rücksendung mit Erstattung für die Bestellung {order} ({total}) anmelden"
        ),
        ActionKind.resend_invoice: (
            "die Rechnung der Bestellung {order} an die angegebene E-Mail-Adresse senden"
        ),
    },
    done_actions={
        ActionKind.cancel_order: "Die Bestellung {order} ist storniert.",
        ActionKind.change_address: "Die Bestellung {order} wird an die neue Adresse geliefert.",
        ActionKind.request_return: (
            "Ihre Rücksendung für die Bestellung {order} ist angemeldet; das Rücksendeetikett "
            "schicken wir Ihnen per E-Mail."
        ),
        ActionKind.resend_invoice: (
            "Die Rechnung der Bestellung {order} ist unterwegs in Ihr Postfach."
        ),
    },
    summary="Die Bestellung {order} (aufgegeben am {placed}, {total}) {where}.",
    where={
        "cancelled": "wurde storniert",
        "preparing": "wird gerade vorbereitet und ist noch nicht versandt",
        "delivered": "wurde zugestellt",
        "shipped": "wurde am {date} versandt und ist unterwegs",
        "shipped_recently": "wurde vor Kurzem versandt und ist unterwegs",
    },
    return_requested="Eine Rücksendung ist dafür angemeldet.",
    refusals={
        "cancelled": "Die Bestellung {order} ist bereits storniert.",
        "cancel_shipped": (
            "Die Bestellung {order} ist bereits versandt und kann nicht mehr storniert "
            "werden; ich kann eine Rücksendung anmelden."
        ),
        "address_dispatched": (
            "Die Bestellung {order} ist bereits unterwegs, ihre Adresse lässt sich nicht mehr "
            "ändern."
        ),
        "return_unshipped": (
            "Die Bestellung {order} ist noch nicht versandt; ich kann sie stattdessen stornieren."
        ),
        "return_requested": "Für die Bestellung {order} ist bereits eine Rücksendung angemeldet.",
    },
    yes=("Ja", "ja"),
    no=("Nein", "nein"),
    date_format="%d.%m.%Y",
    decimal_comma=True,
)

SPANISH = Phrases(
    handing_off="Le paso con un compañero que le responderá aquí en breve.",
    handing_off_later=(
        "Le paso con un compañero. Ahora mismo no hay nadie conectado: le responderá aquí en "
        "cuanto vuelva."
    ),
    switched_off="Le paso con un compañero.",
    clarify=(
        "Perdone, no lo he entendido bien. Puedo decirle dónde está un pedido, cancelarlo o "
        "devolverlo, cambiar su dirección de entrega, reenviar una factura o responder a "
        "preguntas sobre envíos, devoluciones, pagos y tallas. ¿Podría decirlo de otra manera?"
    ),
    not_mine=(
        "Eso no lo puedo resolver yo, así que le paso con un compañero que le responderá aquí "
        "en breve."
    ),
    not_mine_later=(
        "Eso no lo puedo resolver yo, así que le paso con un compañero. Ahora mismo no hay nadie "
        "conectado: le responderá aquí en cuanto vuelva."
    ),
    ask_order="Claro. ¿Cuál es el número de pedido?",
    ask_email=(
        "Para comprobar que el pedido es suyo, ¿con qué dirección de correo electrónico hizo "
        "el pedido?"
    ),
    ask_address="¿Cuál es la nueva dirección de entrega?",
    not_found=(
        "No he encontrado ese pedido con esa dirección de correo. ¿Podría comprobar el número "
        "de pedido y enviarlo de nuevo?"
    ),
    declined="De acuerdo, dejo el pedido como está. ¿Puedo ayudarle en algo más?",
    goodbye="Me alegra haberle ayudado. ¡Que tenga un buen día!",
    action_failed="No he podido completarlo.",
    anything_else="¿Puedo ayudarle en algo más?",
    more="Más información: {url}",
    asking="¿Quiere que {question}? Responda «sí» para confirmar o «no» para dejarlo como está.",
    questions={
        ActionKind.cancel_order: "cancele el pedido {order} ({total})",
        ActionKind.change_address: (
            "cambie la dirección de entrega del pedido {order} a: {address}"
        ),
        ActionKind.request_return: (
            "inicie una solicitud de devolución y reembolso del pedido {order} ({total})"
        ),
        ActionKind.resend_invoice: (
            "envíe la factura del pedido {order} a la dirección de correo que me ha dado"
        ),
    },
    done_actions={
        ActionKind.cancel_order: "El pedido {order} está cancelado.",
        ActionKind.change_address: "El pedido {order} se entregará en la nueva dirección.",
        ActionKind.request_return: (
            "Su solicitud de devolución del pedido {order} está registrada; le enviaremos la "
            "etiqueta de devolución por correo electrónico."
        ),
        ActionKind.resend_invoice: (
            "La factura del pedido {order} va de camino a su bandeja de entrada."
        ),
    },
    summary="El pedido {order} (realizado el {placed}, {total}) {where}.",
    where={
        "cancelled": "se canceló",
        "preparing": "se está preparando y aún no se ha enviado",
        "delivered": "se ha entregado",
        "shipped": "se envió el {date} y está en camino",
        "shipped_recently": "se envió hace poco y está en camino",
    },
    return_requested="Tiene una devolución solicitada.",
    refusals={
        "cancelled": "El pedido {order} ya está cancelado.",
        "cancel_shipped": (
            "El pedido {order} ya se ha enviado, así que no se puede cancelar; puedo iniciar "
            "una devolución."
        ),
        "address_dispatched": (
            "El pedido {order} ya ha salido, así que su dirección ya no se puede cambiar."
        ),
        "return_unshipped": (
            "El pedido {order} aún no se ha enviado; puedo cancelarlo en su lugar."
        ),
        "return_requested": "Ya hay una devolución solicitada para el pedido {order}.",
    },
    yes=("Sí", "sí"),
    no=("No", "no"),
    date_format="%d/%m/%Y",
    decimal_comma=True,
)

PHRASES: Mapping[str, Phrases] = {
    ENGLISH_CODE: ENGLISH,
    "fr": FRENCH,
    "de": GERMAN,
    "es": SPANISH,
}
# The languages the assistant speaks (ISO 639-1, as the labels store them).
SPOKEN = tuple(PHRASES)


def phrases(language: str | None) -> Phrases:
    """Return what the assistant says in `language`, English for any other."""
    return PHRASES.get(language or ENGLISH_CODE, ENGLISH)
