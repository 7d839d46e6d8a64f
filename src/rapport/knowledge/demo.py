"""The demo workspace's sample knowledge base: shipping, returns, payment and sizes, in
English and (some of them) German, French and Spanish; and fact sheets for the two products
of the demo customer's orders. Written by the Rapport team."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.knowledge.enums import ArticleStatus
from rapport.knowledge.products import product_sheets
from rapport.knowledge.repository import ArticleRepository, ProductSheetRepository
from rapport.knowledge.schemas import ArticleCreate, Fact, ProductSheetWrite
from rapport.knowledge.service import articles

DEMO_AUTHOR = "system"


@dataclass(frozen=True)
class DemoArticle:
    """One sample article; `translates` names the English slug it translates."""

    locale: str
    slug: str
    title: str
    tags: tuple[str, ...]
    body: str
    translates: str | None = None


DEMO_ARTICLES = (
    DemoArticle(
        "en",
        "shipping-times",
        "Shipping: delivery times and costs",
        ("Shipping",),
        "We ship from our warehouse in Hamburg on weekdays. Delivery takes:\n\n"
        "- **Germany:** 1-2 working days, €4.90, free from €50\n"
        "- **EU:** 3-5 working days, €9.90, free from €100\n"
        "- **Rest of the world:** 5-10 working days, from €19.90\n\n"
        "Orders placed before 2 pm leave the same day. You get an email with the tracking "
        "link as soon as the parcel is handed to the carrier (DHL).",
    ),
    DemoArticle(
        "en",
        "track-your-order",
        "Where is my order?",
        ("Shipping", "Orders"),
        "Every parcel gets a tracking number once it is dispatched. Open the link in your "
        "shipping confirmation email, or ask our assistant in the chat with your order "
        "number and email address.\n\nIf the tracking has not moved for 5 working days, "
        "write to us and we will open an investigation with the carrier.",
    ),
    DemoArticle(
        "en",
        "returns-and-refunds",
        "Returns and refunds",
        ("Returns",),
        "You can send anything back within **30 days**, unworn and with its labels.\n\n"
        "1. Start the return in the chat or from your account.\n"
        "2. Print the free return label (Germany and EU).\n"
        "3. Hand it in at any DHL point.\n\n"
        "We refund to the original payment method within 5 working days of receiving it.",
    ),
    DemoArticle(
        "en",
        "payment-methods",
        "Payment methods",
        ("Payment",),
        "We accept Visa, Mastercard, American Express, PayPal, Klarna (pay in 30 days) and "
        "bank transfer. Your card is charged when the order ships.\n\n"
        "Invoices are attached to the shipping confirmation; ask in the chat to get one again.",
    ),
    DemoArticle(
        "en",
        "size-guide",
        "Size guide",
        ("Sizes",),
        "Our shirts follow European sizes.\n\n"
        "| Size | Chest (cm) | Length (cm) |\n|---|---|---|\n"
        "| S | 92-96 | 72 |\n| M | 100-104 | 74 |\n| L | 108-112 | 76 |\n| XL | 116-120 | 78 |\n\n"
        "Between two sizes? Take the larger one: linen relaxes but never stretches. The fit "
        "is regular; exchanges for another size are free.",
    ),
    DemoArticle(
        "de",
        "versand",
        "Versand: Lieferzeiten und Kosten",
        ("Versand", "Lieferung"),
        "Wir versenden werktags aus unserem Lager in Hamburg. Die Lieferung dauert:\n\n"
        "- **Deutschland:** 1-2 Werktage, 4,90 €, ab 50 € kostenlos\n"
        "- **EU:** 3-5 Werktage, 9,90 €, ab 100 € kostenlos\n"
        "- **Weltweit:** 5-10 Werktage, ab 19,90 €\n\n"
        "Bestellungen vor 14 Uhr verlassen das Lager am selben Tag. Sobald das Paket bei "
        "DHL ist, erhalten Sie eine E-Mail mit dem Link zur Sendungsverfolgung.",
        translates="shipping-times",
    ),
    DemoArticle(
        "de",
        "ruecksendung-und-erstattung",
        "Rücksendung und Erstattung",
        ("Rücksendung",),
        "Sie können alles innerhalb von **30 Tagen** nach Lieferung zurückschicken, "
        "ungetragen und mit Etikett.\n\n"
        "1. Starten Sie die Rücksendung im Chat oder in Ihrem Konto.\n"
        "2. Drucken Sie das kostenlose Rücksendeetikett aus.\n"
        "3. Geben Sie das Paket bei einer DHL-Filiale ab.\n\n"
        "Wir erstatten innerhalb von 5 Werktagen nach Eingang auf das ursprüngliche "
        "Zahlungsmittel.",
        translates="returns-and-refunds",
    ),
    DemoArticle(
        "de",
        "zahlungsarten",
        "Zahlungsarten",
        ("Zahlung",),
        "Wir akzeptieren Visa, Mastercard, American Express, PayPal, Klarna (Zahlung in 30 "
        "Tagen) und Überweisung. Ihre Karte wird belastet, wenn die Bestellung versendet "
        "wird.\n\nDie Rechnung hängt an der Versandbestätigung; im Chat schicken wir sie "
        "Ihnen gerne noch einmal.",
        translates="payment-methods",
    ),
    DemoArticle(
        "de",
        "groessentabelle",
        "Größentabelle",
        ("Größen",),
        "Unsere Hemden haben europäische Größen.\n\n"
        "| Größe | Brustumfang (cm) | Länge (cm) |\n|---|---|---|\n"
        "| S | 92-96 | 72 |\n| M | 100-104 | 74 |\n| L | 108-112 | 76 |\n| XL | 116-120 | 78 |\n\n"
        "Zwischen zwei Größen? Nehmen Sie die größere: Leinen gibt nach, dehnt sich aber nie. "
        "Die Passform ist normal; der Umtausch in eine andere Größe ist kostenlos.",
        translates="size-guide",
    ),
    DemoArticle(
        "fr",
        "livraison",
        "Livraison : délais et frais",
        ("Livraison",),
        "Nous expédions depuis notre entrepôt de Hambourg du lundi au vendredi.\n\n"
        "- **Allemagne :** 1 à 2 jours ouvrés, 4,90 €, offerte dès 50 €\n"
        "- **UE :** 3 à 5 jours ouvrés, 9,90 €, offerte dès 100 €\n"
        "- **Reste du monde :** 5 à 10 jours ouvrés, à partir de 19,90 €\n\n"
        "Les commandes passées avant 14 h partent le jour même. Vous recevez un e-mail avec "
        "le lien de suivi dès que le colis est remis au transporteur (DHL).",
        translates="shipping-times",
    ),
    DemoArticle(
        "fr",
        "retours-et-remboursements",
        "Retours et remboursements",
        ("Retours",),
        "Vous pouvez nous renvoyer un article sous **30 jours**, non porté et avec ses "
        "étiquettes.\n\n"
        "1. Demandez le retour dans le chat ou depuis votre compte.\n"
        "2. Imprimez l'étiquette de retour gratuite (Allemagne et UE).\n"
        "3. Déposez le colis dans un point DHL.\n\n"
        "Nous remboursons sur le moyen de paiement d'origine sous 5 jours ouvrés après "
        "réception.",
        translates="returns-and-refunds",
    ),
    DemoArticle(
        "fr",
        "moyens-de-paiement",
        "Moyens de paiement",
        ("Paiement",),
        "Nous acceptons Visa, Mastercard, American Express, PayPal, Klarna (paiement à 30 "
        "jours) et le virement bancaire. Votre carte est débitée à l'expédition de la "
        "commande.\n\nLa facture est jointe à la confirmation d'expédition ; demandez-la dans "
        "le chat pour la recevoir à nouveau.",
        translates="payment-methods",
    ),
    DemoArticle(
        "fr",
        "guide-des-tailles",
        "Guide des tailles",
        ("Tailles",),
        "Nos chemises suivent les tailles européennes.\n\n"
        "| Taille | Tour de poitrine (cm) | Longueur (cm) |\n|---|---|---|\n"
        "| S | 92-96 | 72 |\n| M | 100-104 | 74 |\n| L | 108-112 | 76 |\n| XL | 116-120 | 78 |\n\n"
        "Entre deux tailles ? Prenez la plus grande : le lin se détend mais ne s'étire "
        "jamais. La coupe est classique ; l'échange pour une autre taille est gratuit.",
        translates="size-guide",
    ),
    DemoArticle(
        "es",
        "envios",
        "Envíos: plazos y gastos",
        ("Envíos",),
        "Enviamos desde nuestro almacén de Hamburgo de lunes a viernes.\n\n"
        "- **Alemania:** 1-2 días laborables, 4,90 €, gratis desde 50 €\n"
        "- **UE:** 3-5 días laborables, 9,90 €, gratis desde 100 €\n"
        "- **Resto del mundo:** 5-10 días laborables, desde 19,90 €\n\n"
        "Los pedidos realizados antes de las 14:00 salen el mismo día. Recibirá un correo con "
        "el enlace de seguimiento en cuanto el paquete esté en manos del transportista (DHL).",
        translates="shipping-times",
    ),
    DemoArticle(
        "es",
        "devoluciones-y-reembolsos",
        "Devoluciones y reembolsos",
        ("Devoluciones",),
        "Puede devolver cualquier artículo en un plazo de **30 días**, sin usar y con sus "
        "etiquetas.\n\n"
        "1. Solicite la devolución en el chat o desde su cuenta.\n"
        "2. Imprima la etiqueta de devolución gratuita (Alemania y UE).\n"
        "3. Entregue el paquete en cualquier punto DHL.\n\n"
        "Reembolsamos en el método de pago original en un plazo de 5 días laborables desde "
        "su recepción.",
        translates="returns-and-refunds",
    ),
    DemoArticle(
        "es",
        "formas-de-pago",
        "Formas de pago",
        ("Pago",),
        "Aceptamos Visa, Mastercard, American Express, PayPal, Klarna (pago a 30 días) y "
        "transferencia bancaria. Su tarjeta se cobra cuando se envía el pedido.\n\n"
        "La factura va adjunta a la confirmación de envío; pídala en el chat y se la "
        "enviamos de nuevo.",
        translates="payment-methods",
    ),
    DemoArticle(
        "es",
        "guia-de-tallas",
        "Guía de tallas",
        ("Tallas",),
        "Nuestras camisas siguen las tallas europeas.\n\n"
        "| Talla | Contorno de pecho (cm) | Largo (cm) |\n|---|---|---|\n"
        "| S | 92-96 | 72 |\n| M | 100-104 | 74 |\n| L | 108-112 | 76 |\n| XL | 116-120 | 78 |\n\n"
        "¿Entre dos tallas? Elija la mayor: el lino cede pero nunca se estira. El corte es "
        "clásico; el cambio por otra talla es gratuito.",
        translates="size-guide",
    ),
)


def _create(sample: DemoArticle, translation_of: str | None) -> ArticleCreate:
    return ArticleCreate(
        title=sample.title,
        body=sample.body,
        slug=sample.slug,
        locale=sample.locale,
        tags=list(sample.tags),
        status=ArticleStatus.published,
        translation_of=translation_of,
    )


def _sheet(name: str, description: str, *facts: tuple[str, str]) -> ProductSheetWrite:
    return ProductSheetWrite(
        name=name,
        description=description,
        facts=[Fact(name=label, value=value) for label, value in facts],
    )


# (product key, locale, sheet): the products of the demo customer's orders.
DEMO_PRODUCTS = (
    (
        "linen-shirt",
        "en",
        _sheet(
            "Linen shirt",
            "A relaxed shirt in washed European linen: soft from the first wear, cool on hot "
            "days, and softer with every wash. Free returns within 30 days.",
            ("Material", "100 % European linen, washed for softness"),
            ("Sizes", "XS, S, M, L, XL and XXL; a relaxed fit, so take your usual size"),
            ("Colours", "white, sand, sage and navy"),
            ("Care", "machine wash at 30 °C, line dry, iron while damp"),
            ("Made in", "Portugal"),
            ("Price", "€49.00"),
        ),
    ),
    (
        "linen-shirt",
        "es",
        _sheet(
            "Camisa de lino",
            "Una camisa holgada de lino europeo lavado: suave desde el primer día, fresca con "
            "calor y más suave con cada lavado. Devolución gratuita en 30 días.",
            ("Material", "100 % lino europeo, lavado para más suavidad"),
            ("Tallas", "XS, S, M, L, XL y XXL; corte holgado, elija su talla habitual"),
            ("Colores", "blanco, arena, salvia y azul marino"),
            ("Cuidado", "lavar a máquina a 30 °C, secar al aire, planchar húmeda"),
            ("Fabricada en", "Portugal"),
            ("Precio", "49,00 €"),
        ),
    ),
    (
        "linen-shirt",
        "de",
        _sheet(
            "Leinenhemd",
            "Ein lässiges Hemd aus gewaschenem europäischem Leinen: weich vom ersten Tragen an, "
            "kühl an heißen Tagen und mit jeder Wäsche weicher. Kostenlose Rücksendung innerhalb "
            "von 30 Tagen.",
            ("Material", "100 % europäisches Leinen, für mehr Weichheit gewaschen"),
            ("Größen", "XS, S, M, L, XL und XXL; lockere Passform, nehmen Sie Ihre übliche Größe"),
            ("Farben", "Weiß, Sand, Salbei und Marine"),
            ("Pflege", "Maschinenwäsche bei 30 °C, an der Luft trocknen, feucht bügeln"),
            ("Hergestellt in", "Portugal"),
            ("Preis", "49,00 €"),
        ),
    ),
    (
        "linen-shirt",
        "fr",
        _sheet(
            "Chemise en lin",
            "Une chemise ample en lin européen lavé : douce dès le premier jour, fraîche quand il "
            "fait chaud, et plus douce à chaque lavage. Retour gratuit sous 30 jours.",
            ("Matière", "100 % lin européen, lavé pour plus de douceur"),
            ("Tailles", "XS, S, M, L, XL et XXL ; coupe ample, prenez votre taille habituelle"),
            ("Coloris", "blanc, sable, sauge et marine"),
            ("Entretien", "lavage en machine à 30 °C, séchage à l'air libre, repasser humide"),
            ("Fabriquée au", "Portugal"),
            ("Prix", "49,00 €"),
        ),
    ),
    (
        "canvas-tote-bag",
        "en",
        _sheet(
            "Canvas tote bag",
            "A sturdy everyday tote in organic cotton canvas, with an inside pocket for keys "
            "and phone.",
            ("Material", "12 oz organic cotton canvas"),
            ("Size", "38 x 42 cm with a 10 cm gusset; carries up to 15 kg"),
            ("Handles", "60 cm, long enough to wear over the shoulder"),
            ("Care", "hand wash cold; do not tumble dry"),
            ("Price", "€49.00"),
        ),
    ),
    (
        "canvas-tote-bag",
        "de",
        _sheet(
            "Canvas-Tasche",
            "Eine robuste Tasche für jeden Tag aus Bio-Baumwoll-Canvas, mit Innentasche für "
            "Schlüssel und Handy.",
            ("Material", "Bio-Baumwoll-Canvas, 400 g/m²"),
            ("Größe", "38 x 42 cm, 10 cm Seitenfalte; trägt bis zu 15 kg"),
            ("Henkel", "60 cm, lang genug für die Schulter"),
            ("Pflege", "kalte Handwäsche; nicht in den Trockner"),
            ("Preis", "49,00 €"),
        ),
    ),
    (
        "canvas-tote-bag",
        "fr",
        _sheet(
            "Sac cabas en toile",
            "Un cabas solide pour tous les jours, en toile de coton bio, avec une poche "
            "intérieure pour les clés et le téléphone.",
            ("Matière", "toile de coton bio, 400 g/m²"),
            ("Dimensions", "38 x 42 cm, soufflet de 10 cm ; porte jusqu'à 15 kg"),
            ("Anses", "60 cm, assez longues pour le porter à l'épaule"),
            ("Entretien", "lavage à la main à froid ; pas de sèche-linge"),
            ("Prix", "49,00 €"),
        ),
    ),
    (
        "canvas-tote-bag",
        "es",
        _sheet(
            "Bolsa de lona",
            "Una bolsa resistente para el día a día, de lona de algodón orgánico, con un "
            "bolsillo interior para las llaves y el móvil.",
            ("Material", "lona de algodón orgánico, 400 g/m²"),
            ("Medidas", "38 x 42 cm con fuelle de 10 cm; aguanta hasta 15 kg"),
            ("Asas", "60 cm, lo bastante largas para llevarla al hombro"),
            ("Cuidado", "lavar a mano en frío; no usar secadora"),
            ("Precio", "49,00 €"),
        ),
    ),
)


async def seed_demo(session: AsyncSession, workspace_id: str) -> int:
    """Add the sample articles and fact sheets the workspace lacks (articles by locale and
    slug, sheets by product and locale); return how many articles.

    Everything is embedded before the first statement: call it in a unit of work of its own."""
    embeddings = await articles.embed_articles([_create(s, None) for s in DEMO_ARTICLES])
    sheet_embeddings = [await product_sheets.embed_sheet(sheet) for _, _, sheet in DEMO_PRODUCTS]
    sheets = ProductSheetRepository(session, workspace_id)
    for (key, locale, sheet), lines in zip(DEMO_PRODUCTS, sheet_embeddings, strict=True):
        if await sheets.by_key(key, locale) is None:
            await product_sheets.put(
                session, workspace_id, key, locale, sheet, author=DEMO_AUTHOR, embedding=lines
            )
    repository = ArticleRepository(session, workspace_id)
    created = 0
    for sample, embedding in zip(DEMO_ARTICLES, embeddings, strict=True):
        if await repository.by_slug(sample.locale, sample.slug) is not None:
            continue
        original = None
        if sample.translates is not None:
            original = await repository.by_slug("en", sample.translates)
        body = _create(sample, original.id if original is not None else None)
        await articles.create(session, workspace_id, body, author=DEMO_AUTHOR, embedding=embedding)
        created += 1
    return created
