"""PDF rendering of credit statements and class completion certificates (ReportLab).

The text is Chinese in ReportLab's built-in CID font ``STSong-Light`` (no font files needed,
and text extraction reads it back). The QR code (``reportlab.graphics.barcode.qr``) encodes
the public verification URL; the same URL is a link over the code and printed below it.
The PDF is rendered from the issued record's snapshot, so a download always shows exactly
what was signed.
"""

from __future__ import annotations

import io
from datetime import date
from html import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import HRFlowable

from .models import IssuedCertificate

FONT = "STSong-Light"
LANGUAGE = "zh-hans"
QR_SIZE = 32 * mm

_registered = False
# Characters STSong-Light has no glyph for, and the ones it draws in their place.
GLYPH_SUBSTITUTES = str.maketrans({"·": "・", "•": "・", "‧": "・"})


def _p(text, style) -> Paragraph:
    """A paragraph of plain text (escaped, with glyphs the CID font lacks replaced)."""
    return Paragraph(escape(str(text)).translate(GLYPH_SUBSTITUTES), style)


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=4),
        "serial": ParagraphStyle("serial", parent=base, fontSize=9, alignment=TA_RIGHT, textColor=colors.grey),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "cert": ParagraphStyle("cert", parent=base, fontSize=14, leading=26, firstLineIndent=28),
        "right": ParagraphStyle("right", parent=base, fontSize=11, leading=18, alignment=TA_RIGHT),
    }


class QrCode(Flowable):
    """The verification QR code with a link annotation over it."""

    def __init__(self, url: str, size: float = QR_SIZE):
        super().__init__()
        self.url = url
        self.size = size
        self.widget = QrCodeWidget(url, barLevel="M")
        x1, y1, x2, y2 = self.widget.getBounds()
        self.drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
        self.drawing.add(self.widget)
        self.width = self.height = size

    def wrap(self, available_width, available_height):
        return self.size, self.size

    def draw(self):
        self.drawing.drawOn(self.canv, 0, 0)
        self.canv.linkURL(self.url, (0, 0, self.size, self.size), relative=1)


def _table(rows, widths, *, header: bool = True, zebra: bool = True) -> Table:
    styles = _styles()
    data = [[c if isinstance(c, Flowable) else _p(c, styles["cell"]) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    commands = [
        ("FONT", (0, 0), (-1, -1), _font(), 9),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")))
    if zebra:
        for i in range(2 if header else 1, len(rows), 2):
            commands.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f7f7f7")))
    table.setStyle(TableStyle(commands))
    return table


def _verification_block(issued: IssuedCertificate, verify_url: str) -> list:
    styles = _styles()
    issued_on = timezone.localdate(issued.issued_at) if issued.issued_at else timezone.localdate()
    text = [
        _p(_("Issuing authority: %(authority)s") % {"authority": issued.authority}, styles["base"]),
        _p(_("Date of issue: %(date)s") % {"date": _cn_date(issued_on)}, styles["base"]),
        _p(_("Serial number: %(serial)s") % {"serial": issued.serial}, styles["base"]),
        Spacer(1, 4),
        _p(
            _(
                "Scan the QR code to check this document on the platform's public verification page: it shows "
                "whether the document is genuine and still matches the credit ledger."
            ),
            styles["small"],
        ),
        _p(verify_url, styles["small"]),
    ]
    table = Table([[text, QrCode(verify_url)]], colWidths=[None, QR_SIZE + 4 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [Spacer(1, 10), HRFlowable(width="100%", color=colors.grey), Spacer(1, 6), KeepTogether([table])]


def _cn_date(value) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value.year}年{value.month}月{value.day}日"


def _credit_story(issued: IssuedCertificate, verify_url: str) -> list:
    styles = _styles()
    snap = issued.snapshot
    t = snap["teacher"]
    cycle = snap["cycle"]
    story: list = [
        _p(_("Serial number: %(serial)s") % {"serial": issued.serial}, styles["serial"]),
        _p(snap["title"], styles["title"]),
        Spacer(1, 6),
    ]
    info = [
        [_("Name"), t["name"], _("ID number"), t["national_id"]],
        [_("School"), t["school"], _("County / district"), t["county"]],
        [
            _("Credit cycle"),
            _("%(label)s (%(start)s to %(end)s)")
            % {"label": cycle["label"], "start": _cn_date(cycle["start"]), "end": _cn_date(cycle["end"])},
            _("Figures as of"),
            _cn_date(snap["as_of"]),
        ],
        [_("Credit policy"), snap["policy"] or "—", _("Standing"), snap["status_label"]],
    ]
    story.append(_table(info, [24 * mm, 61 * mm, 24 * mm, 61 * mm], header=False, zebra=False))
    story.append(_p(_("Standing per category"), styles["h2"]))
    rows = [[_("Category"), _("Earned"), _("Counted"), _("Required"), _("Missing")]]
    for c in snap["categories"]:
        rows.append([c["label"], c["earned"], c["counted"], c["required"], c["missing"]])
    if snap.get("total"):
        tot = snap["total"]
        rows.append([tot["label"], "", tot["counted"], tot["required"], tot["missing"]])
    story.append(_table(rows, [58 * mm, 28 * mm, 28 * mm, 28 * mm, 28 * mm]))
    story.append(_p(_("Ledger summary by source"), styles["h2"]))
    rows = [[_("Source"), _("Entries"), _("Credits")]]
    rows += [[s["label"], s["count"], s["amount"]] for s in snap["sources"]] or [
        [_("No credits in this cycle yet."), "", ""]
    ]
    story.append(_table(rows, [90 * mm, 40 * mm, 40 * mm]))
    if snap["entries"]:
        story.append(_p(_("Ledger entries"), styles["h2"]))
        rows = [[_("Date"), _("Source"), _("Training / note"), _("Category"), _("Credits")]]
        rows += [[e["date"], e["source"], e["title"], e["category"], e["amount"]] for e in snap["entries"]]
        story.append(_table(rows, [24 * mm, 28 * mm, 78 * mm, 22 * mm, 18 * mm]))
    story.append(Spacer(1, 6))
    story.append(
        _p(
            _(
                "This statement is generated from the credit ledger as of the date above; reversals are shown as "
                "negative entries. It is valid only while the verification page confirms it."
            ),
            styles["small"],
        )
    )
    story += _verification_block(issued, verify_url)
    return story


def _class_story(issued: IssuedCertificate, verify_url: str) -> list:
    styles = _styles()
    snap = issued.snapshot
    t, k = snap["teacher"], snap["class"]
    story: list = [
        _p(_("Serial number: %(serial)s") % {"serial": issued.serial}, styles["serial"]),
        Spacer(1, 16),
        _p(snap["title"], styles["title"]),
        Spacer(1, 18),
        _p(
            _(
                "%(name)s (ID number %(national_id)s) of %(school)s took part in the training “%(project)s”, "
                "class %(class)s, held by %(institution)s from %(start)s to %(end)s, completed %(hours)s "
                "training hours and passed the assessment. %(credits)s credits (%(category)s) have been "
                "recorded on the teacher's credit ledger."
            )
            % {
                "name": t["name"],
                "national_id": t["national_id"],
                "school": t["school"],
                "project": k["project"],
                "class": k["name"],
                "institution": k["institution"],
                "start": _cn_date(k["start"]),
                "end": _cn_date(k["end"]),
                "hours": k["hours"],
                "credits": k["credits"],
                "category": k["category"],
            },
            styles["cert"],
        ),
        Spacer(1, 12),
    ]
    rows = [
        [_("Training project"), k["project"]],
        [_("Class"), k["name"]],
        [_("Training institution"), k["institution"]],
        [_("Dates"), f"{_cn_date(k['start'])} — {_cn_date(k['end'])}"],
        [_("Training hours attended"), k["hours"]],
        [_("Credits recorded"), f"{k['credits']}（{k['category']}）"],
    ]
    story.append(_table(rows, [45 * mm, 125 * mm], header=False, zebra=False))
    story += _verification_block(issued, verify_url)
    return story


def render_pdf(issued: IssuedCertificate, verify_url: str) -> bytes:
    """The PDF of an issued statement or certificate, in Chinese."""
    with override(LANGUAGE):
        buffer = io.BytesIO()
        title = issued.snapshot.get("title", "")
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=20 * mm,
            rightMargin=20 * mm,
            topMargin=18 * mm,
            bottomMargin=18 * mm,
            title=f"{title} {issued.serial}",
            author=issued.authority,
            subject=issued.snapshot.get("teacher", {}).get("name", ""),
            creator="Peixun",
        )
        story = (
            _credit_story(issued, verify_url)
            if issued.kind == IssuedCertificate.Kind.CREDIT
            else _class_story(issued, verify_url)
        )
        page_label = _("Page %(page)s")

        def footer(canvas, doc_):
            canvas.saveState()
            canvas.setFont(_font(), 8)
            canvas.setFillColor(colors.grey)
            canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"{issued.serial}    " + page_label % {"page": doc_.page})
            canvas.restoreState()

        doc.build(story, onFirstPage=footer, onLaterPages=footer)
        return buffer.getvalue()


def pdf_filename(issued: IssuedCertificate) -> str:
    snap = issued.snapshot
    name = snap.get("teacher", {}).get("name", "")
    if issued.kind == IssuedCertificate.Kind.CREDIT:
        return f"学分证明-{name}-{snap.get('cycle', {}).get('label', '')}-{issued.serial}.pdf"
    return f"结业证书-{name}-{issued.serial}.pdf"
