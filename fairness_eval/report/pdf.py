"""The model card as a PDF, printed by WeasyPrint from the same HTML as the web page.

Print rules live in card.css (@page: A4, "Page n of N"; rows and figures never split).
WeasyPrint is only allowed `data:` URLs, so a PDF build never reaches the network.
The PDF is tagged (`pdf_tags`): a structure tree of headings, paragraphs, lists and tables
(header cells marked), so screen readers and text extraction follow the reading order; the
document language and title come from the page's `lang` and `<title>`, and viewers are asked
to show that title. Charts are Figures whose alternative text is the SVG's `<title>`. It
identifies itself as PDF/UA-1 (ISO 14289-1: `pdfuaid:part` 1 in its XMP metadata stream,
which also carries the title), so checkers and assistive software know to trust its tags.
WeasyPrint needs the system's Pango library (Debian/Ubuntu: `apt-get install
libpango-1.0-0 libpangoft2-1.0-0`, plus a font such as fonts-dejavu-core).
"""

from __future__ import annotations

import logging

from ..errors import UsageError
from ..results.names import MODEL_CARD_PDF


def pdf_bytes(html: str, file_name: str = MODEL_CARD_PDF,
              without_pdf: str = "--format html,md,json") -> bytes:
    """Render `html` to PDF bytes.

    `file_name` is the PDF being written and `without_pdf` the option that leaves it out;
    both only name them in the error when WeasyPrint cannot run.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: Pango missing from the system
        raise UsageError(
            f"cannot write {file_name}: WeasyPrint is not usable here ({error}); "
            "install the system's Pango (Debian/Ubuntu: apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0 fonts-dejavu-core) or ask for {without_pdf}"
        ) from None
    # WeasyPrint reports CSS it does not support through logging at WARNING; those are
    # expected for screen-only rules and would only alarm a reader of the CLI output.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, url_fetcher=_data_only_fetcher())
    return document.write_pdf(pdf_tags=True, pdf_variant="pdf/ua-1")


def _data_only_fetcher():  # noqa: ANN202 - type depends on the WeasyPrint version
    """A URL fetcher that serves `data:` URLs and refuses everything else."""
    import weasyprint

    if hasattr(weasyprint, "URLFetcher"):  # WeasyPrint >= 68
        return weasyprint.URLFetcher(allowed_protocols=("data",))

    def fetch(url: str, timeout: int = 10, ssl_context: object = None) -> dict:
        if not url.startswith("data:"):
            raise ValueError(f"the model card fetches nothing; refused {url[:80]}")
        return weasyprint.default_url_fetcher(url, timeout, ssl_context)

    return fetch
