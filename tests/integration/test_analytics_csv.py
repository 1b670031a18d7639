"""The analytics spreadsheet (`/v1/analytics?format=csv` and `/analytics/export.csv`) is safe to open: carrier-
supplied text that a spreadsheet would run as a formula is written as text (OWASP "CSV Injection")."""

from __future__ import annotations

import csv
import io

from chalicelib.shared.spreadsheet import csv_cell
from tests.conftest import Api, Retailer
from tests.integration.test_analytics_sessions import session_cookie
from tests.integration.test_survey_replies import sent_survey

EVIL = '=HYPERLINK("http://evil.example","x")'


def rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode())))


def test_a_drivers_name_shaped_like_a_formula_reaches_both_csv_exports_as_text(api: Api, retailer: Retailer) -> None:
    sent_survey(api, retailer, 0, phone="+14155557401", driver=EVIL)
    sent_survey(api, retailer, 1, phone="+14155557402", driver="Sam Rivera")
    api_csv = api.http.get("/v1/analytics?format=csv", headers=retailer.auth)
    cookie = session_cookie(api, retailer.api_key)
    page_csv = api.http.get("/analytics/export.csv", headers={"Cookie": cookie})
    for response in (api_csv, page_csv):
        assert response.status_code == 200
        table = rows(response.body)
        drivers = {row[1] for row in table if row[0] == "driver"}
        assert drivers == {"'" + EVIL, "Sam"}
        assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for row in table for cell in row)
        assert ["driver", "Sam", "surveys_sent", "1"] in table  # numbers stay numbers


def test_cells_that_would_start_a_formula_get_a_quote_and_numbers_stay_numbers() -> None:
    for text in ("=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(text) == "'" + text
    for kept in (-3, -2.5, 0, 12, "-7", "-0.5", "Sam", "", None):
        assert csv_cell(kept) == kept
