"""The report as a PDF (fpdf2, pure Python; docs/supply-chain.md): the same fields as the
JSON, labelled in Norwegian, for the caseworker who reads it.

A Unicode TrueType font (DejaVu Sans, Debian's fonts-dejavu-core) is used when the system has
it; otherwise fpdf2's built-in Helvetica, which covers Latin-1 (æøå included) and gets every
other character replaced, so a report is never refused for its font.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


def _font(pdf: FPDF) -> tuple[str, bool]:
    for d in FONT_DIRS:
        regular, bold = d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu", True
    return "Helvetica", False


def _lines(report: dict[str, Any]) -> list[tuple[str, str]]:
    b, m = report["bekymring"], report["melder"]
    return [
        ("Meldingens id", report["id"]),
        ("Sendt", report["sendt"]),
        ("Kommunenummer", report["kommunenummer"]),
        ("Hjemmel", report["hjemmel"]),
        ("Barnets fødselsnummer", report["barn"]["fodselsnummer"]),
        ("Bekymringen gjelder", ", ".join(k["navn"] for k in b["kategorier"])),
        ("Hastegrad", b["hastegrad"]["navn"]),
        ("Ungdommen kjenner til meldingen", "Ja" if b["ungdommen_kjenner_til_meldingen"] else "Nei"),
        ("Merknad", b["merknad_om_ungdommens_kjennskap"] or "-"),
        ("Melder", m["navn"]),
        ("Rolle", m["rolle"]),
        ("Telefon", m["telefon"]),
        ("E-post", m["epost"] or "-"),
        ("Tjeneste", f"{m['tjeneste']}, {m['kommune']}"),
        ("Beskrivelse av bekymringen", b["beskrivelse"]),
    ]


def render_pdf(report: dict[str, Any]) -> bytes:
    # Loaded on the first report, not at start: fpdf2 and fontTools are a third of a second of
    # every web process's start, and few processes ever render a report.
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title("Bekymringsmelding")
    pdf.set_creator("helseprat")
    family, unicode = _font(pdf)

    def clean(text: str) -> str:
        return text if unicode else text.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 9, clean("Bekymringsmelding til barneverntjenesten"), new_x="LMARGIN",
                   new_y="NEXT")
    pdf.ln(3)
    for label, value in _lines(report):
        pdf.set_font(family, "B", 10)
        pdf.multi_cell(0, 6, clean(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 11)
        pdf.multi_cell(0, 6, clean(str(value)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    return bytes(pdf.output())
