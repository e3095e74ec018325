"""The desk's records on SQLite and PostgreSQL: the report's counts equal the cases' counts,
tampering with the log fails verification (API and `veil abuse verify-log --database` as a real
process), and the exports read the stored rows (issue 4, acceptance 5)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from tests.control.harness import Api
from veil.abuse.actions import ActionEvent, ActionType, Ground, StatementOfReasons
from veil.abuse.ledger import Source
from veil.abuse.notices import Category, Notice
from veil.control.app import control_state
from veil.control.desk.intake import file_notice
from veil.control.desk.mitigations import change_status, propose
from veil.control.desk.orders import Order, file_order
from veil.control.store.models import (
    AbuseAction,
    AbuseCase,
    AbuseLogEntry,
    AbuseReporter,
    AbuseStrike,
    AccountHost,
    new_id,
)

ORIGIN = "93.184.215.14"
TRUSTED = "hotline@rights.example"


def dmca(urls: str, email: str = "counsel@rights.example", **changes: Any) -> Notice:
    fields: dict[str, Any] = {
        "act": Category.DMCA,
        "urls": urls,
        "email": email,
        "email2": email,
        "name": "Ada Counsel",
        "signature": "Ada Counsel",
        "original_work": "Bridal gown photographs, https://rights.example/gowns",
        "agent_name": "Gowns Agency",
        "company": "Rights LLP",
        "address1": "1 Main St",
        "city": "Springfield",
        "country": "US",
        "tele": "+1 555 0100",
        "agree": True,
    }
    return Notice(**{**fields, **changes})


async def _zones(api: Api) -> None:
    """Two proxied zones on the operator's account, the host declared."""
    for name in ("shop.example", "blog.example"):
        zone = await api.zone(name)
        await api.ok(
            "POST",
            f"/zones/{zone['id']}/dns_records",
            json={"type": "A", "name": name, "content": ORIGIN, "proxied": True},
        )
    state = control_state(api.app)
    with state.db.write() as session:
        session.add(
            AccountHost(
                account_id=zone["account"]["id"],
                name="Example Hosting GmbH",
                abuse_email="abuse@hosting.example",
                modified_on=state.now(),
            )
        )
        session.commit()


def _file(api: Api) -> None:
    """Several notices: valid, trusted, incomplete, invalid, off-network, two zones in one,
    other categories, a voluntary one, and a duplicate that joins."""
    state = control_state(api.app)
    now = state.now()
    with state.db.write() as session:
        session.add(
            AbuseReporter(
                id=new_id(),
                email=TRUSTED,
                name="Rights Hotline",
                trusted=True,
                valid_count=0,
                invalid_count=0,
                last_active_on=now,
                created_on=now,
            )
        )
        session.flush()
        filings: list[tuple[Notice, str, Source | None]] = [
            (dmca("https://shop.example/a"), "form", None),
            (dmca("https://shop.example/a"), "api", None),  # duplicate: joins the open case
            (dmca("https://shop.example/b", email=TRUSTED), "api", None),
            (dmca("https://blog.example/c", signature="", agree=False), "email", None),
            (dmca("https://shop.example/d", original_work=""), "form", None),  # invalid
            (dmca("https://elsewhere.example/x"), "form", None),  # not on our network
            (dmca("https://shop.example/e\nhttps://blog.example/f"), "api", None),  # two cases
            (
                Notice(
                    act=Category.PHISHING,
                    urls="https://blog.example/login",
                    email=TRUSTED,
                    email2=TRUSTED,
                    justification="A fake bank login page",
                    agree=True,
                ),
                "api",
                None,
            ),
            (
                Notice(
                    act=Category.GENERAL,
                    urls="https://shop.example/spam",
                    email="ops@veil.example",
                    email2="ops@veil.example",
                    name="Veil operator",
                    justification="Found by the operator",
                    agree=True,
                ),
                "form",
                Source.VOLUNTARY,
            ),
        ]
        for i, (notice, channel, source) in enumerate(filings):
            file_notice(
                session=session,
                desk=state.desk,
                notice=notice,
                channel=channel,
                now=now - timedelta(seconds=len(filings) - i),
                source=source,
            )
        session.commit()


def _case_counts(api: Api) -> dict[str, Counter[str]]:
    """The same headings counted straight from the abuse_cases table (authority orders are
    counted as orders, not as notices)."""
    with control_state(api.app).db.read() as session:
        cases = session.scalars(select(AbuseCase)).all()
    notices = [c for c in cases if c.source != Source.AUTHORITY.value]
    orders = [c for c in cases if c.source == Source.AUTHORITY.value]
    return {
        "notices_by_category_and_source": Counter(f"{c.category} / {c.source}" for c in notices),
        "notices_by_category": Counter(c.category for c in notices),
        "notices_by_source": Counter(c.source for c in notices),
        "notices_by_channel": Counter(c.channel for c in notices),
        "notices_by_validation": Counter(c.validation for c in notices),
        "notices_by_network": Counter(
            "on_network" if c.zone_id is not None else "off_network" for c in notices
        ),
        "orders_by_country": Counter(str((c.order or {}).get("country")) for c in orders),
        "orders_by_category": Counter(c.category for c in orders),
    }


async def test_report_counts_equal_the_counts_from_the_cases(api: Api) -> None:
    """Acceptance 5: every notice heading of the report (from the log alone) equals the count
    computed directly from the abuse_cases table; the trusted reporter is counted apart."""
    await _zones(api)
    _file(api)
    report = await api.ok("GET", "/veil/abuse/report")
    expected = _case_counts(api)
    for section, counts in expected.items():
        assert report["sections"][section] == dict(counts), section
    assert report["sections"]["notices"]["received"] == sum(expected["notices_by_source"].values())
    assert report["sections"]["notices"]["duplicates_joined"] == 1
    assert expected["notices_by_source"]["trusted"] == 2
    assert expected["notices_by_source"]["voluntary"] == 1
    assert set(expected["notices_by_validation"]) == {
        "complete",
        "incomplete_awaiting_reporter",
        "invalid",
    }
    with control_state(api.app).db.read() as session:
        forwarded = session.scalars(select(AbuseCase).where(AbuseCase.forwarded_on.is_not(None)))
        assert report["medians"]["received_to_first_forward"]["count"] == len(forwarded.all())
    verify = await api.ok("GET", "/veil/abuse/log/verify")
    assert report["log"] == {
        "head": verify["head"],
        "rows": verify["entries"],
        "generated_at": report["log"]["generated_at"],
        "verified": True,
    }


async def test_report_as_csv_and_html_and_period_errors(api: Api) -> None:
    """CSV and HTML bodies carry the same figures and the head; a bad period is one clear
    error in the envelope."""
    await _zones(api)
    _file(api)
    head = (await api.ok("GET", "/veil/abuse/log/verify"))["head"]
    response = await api.client.get("/veil/abuse/report", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert ["anchor", "head", head] in rows
    assert ["notices_by_source", "trusted", "2"] in rows
    page = await api.client.get("/veil/abuse/report", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert head in page.text and "Transparency report" in page.text
    for params, message in [
        ({"since": "yesterday"}, "since: give a date"),
        ({"since": "2026-03-01T00:00:00"}, "since: give a date"),
        ({"since": "2026-04-01", "until": "2026-03-01"}, "since must be before until"),
        ({"format": "pdf"}, "format"),
        ({"until": "0001-01-02"}, "until: too early"),
        ({"since": "0001-01-01T00:00:00+01:00"}, "since: give a date"),
    ]:
        bad = await api.client.get("/veil/abuse/report", params=params)
        assert bad.status_code == 400, params
        assert message in bad.json()["errors"][0]["message"]


async def test_a_period_that_excludes_the_notices_counts_none(api: Api) -> None:
    """A period before the notices were received reports zero notices."""
    await _zones(api)
    _file(api)
    report = await api.ok(
        "GET", "/veil/abuse/report", params={"since": "2020-01-01", "until": "2021-01-01"}
    )
    assert report["sections"]["notices"] == {}
    assert report["period"] == {"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"}


def _log_ids(api: Api) -> list[int]:
    with control_state(api.app).db.read() as session:
        return list(session.scalars(select(AbuseLogEntry.id).order_by(AbuseLogEntry.id)))


def _cli_verify(db_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`veil abuse verify-log --database URL` as a real process (bounded in time)."""
    return subprocess.run(
        [sys.executable, "-m", "veil", "abuse", "verify-log", "--database", db_url, *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_untouched_log_verifies_via_api_and_cli(api: Api, db_url: str) -> None:
    """An untouched log verifies: the API says ok; the CLI exits 0 with the count and head."""
    await _zones(api)
    _file(api)
    result = await api.ok("GET", "/veil/abuse/log/verify")
    assert result["ok"] is True and result["first_bad"] is None
    assert result["entries"] == len(_log_ids(api)) > 10
    done = _cli_verify(db_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ok: {result['entries']} entries, head {result['head']}"
    pinned = _cli_verify(db_url, "--head", result["head"])
    assert pinned.returncode == 0, pinned.stderr


async def test_editing_one_row_fails_at_that_row(api: Api, db_url: str) -> None:
    """Acceptance 5: an UPDATE of one row's entry makes verify fail at exactly that row, via
    the API and via the CLI reading the database directly; the report shows it unverified."""
    await _zones(api)
    _file(api)
    ids = _log_ids(api)
    victim = 3
    state = control_state(api.app)
    with state.db.write() as session:
        row = session.get(AbuseLogEntry, ids[victim])
        assert row is not None
        forged = {**row.entry, "category": "abuse_general"}
        session.execute(
            update(AbuseLogEntry).where(AbuseLogEntry.id == ids[victim]).values(entry=forged)
        )
        session.commit()
    result = await api.ok("GET", "/veil/abuse/log/verify")
    assert (result["ok"], result["first_bad"], result["reason"]) == (False, victim, "hash")
    done = _cli_verify(db_url)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"row {victim} " in lines[0] and "edited" in lines[0], lines
    assert "Traceback" not in done.stderr
    report = await api.ok("GET", "/veil/abuse/report")
    assert report["log"]["verified"] is False


async def test_deleting_one_row_fails_at_that_row(api: Api, db_url: str) -> None:
    """Acceptance 5: a DELETE of one row makes verify fail where the row was (its successor no
    longer links), via the API and the CLI."""
    await _zones(api)
    _file(api)
    ids = _log_ids(api)
    victim = 5
    with control_state(api.app).db.write() as session:
        session.execute(delete(AbuseLogEntry).where(AbuseLogEntry.id == ids[victim]))
        session.commit()
    result = await api.ok("GET", "/veil/abuse/log/verify")
    assert (result["ok"], result["first_bad"], result["reason"]) == (False, victim, "link")
    done = _cli_verify(db_url)
    assert done.returncode == 1 and f"row {victim} " in done.stderr and "deleted" in done.stderr


async def test_truncation_is_found_only_against_a_published_head(api: Api, db_url: str) -> None:
    """Cutting the last row leaves a valid chain; the published head reveals it."""
    await _zones(api)
    _file(api)
    published = (await api.ok("GET", "/veil/abuse/log/verify"))["head"]
    with control_state(api.app).db.write() as session:
        session.execute(delete(AbuseLogEntry).where(AbuseLogEntry.id == _log_ids(api)[-1]))
        session.commit()
    assert (await api.ok("GET", "/veil/abuse/log/verify"))["ok"] is True
    pinned = await api.ok("GET", "/veil/abuse/log/verify", params={"head": published})
    assert (pinned["ok"], pinned["reason"]) == (False, "head")
    done = _cli_verify(db_url, "--head", published)
    assert done.returncode == 1 and "truncated" in done.stderr


async def test_verify_and_report_need_the_desk_permission(api: Api) -> None:
    """A token without abuse:desk (or admin) is refused; abuse:desk is enough."""
    weak = api.as_token(await api.token(["zone:read", "abuse:read"]))
    desk = api.as_token(await api.token(["abuse:desk"]))
    async with weak, desk:
        for path in ("/veil/abuse/log/verify", "/veil/abuse/report", "/veil/abuse/exports/dsa"):
            assert (await weak.get(path)).status_code == 403, path
            assert (await desk.get(path)).status_code == 200, path
    bad = await api.client.get("/veil/abuse/log/verify", params={"head": "nothex"})
    assert bad.status_code == 400 and "head" in bad.json()["errors"][0]["message"]


STATEMENT = {
    "restriction": "access to the URL disabled (HTTP 451)",
    "duration": "indefinite",
    "facts": "A complete copyright notice; no answer from the customer.",
    "followed_notice": True,
    "automated_detection": False,
    "automated_decision": False,
    "ground": "illegal_content",
    "ground_reference": "Directive 2001/29/EC Art. 3",
    "explanation": "The page copies the photographs.",
    "redress": ["internal complaint", "court"],
    "territorial_scope": [],
    "notice_reference": "",
}


def _action(api: Api, case: AbuseCase, countries: list[str], when: datetime) -> str:
    with control_state(api.app).db.write() as session:
        action = AbuseAction(
            id=new_id(),
            case_id=case.id,
            account_id=case.account_id,
            zone_id=case.zone_id,
            type="legal_block",
            status="active",
            effective_on=when,
            targets=["https://shop.example/b"],
            countries=countries,
            statement={**STATEMENT, "notice_reference": case.id},
            created_on=when,
            modified_on=when,
        )
        session.add(action)
        session.commit()
        return action.id


async def test_exports_read_the_stored_case_and_actions(api: Api) -> None:
    """Lumen JSON for a stored DMCA case (redacted, action taken), DSA statements one by one
    and by period (a US-only block skipped with its reason), 404s and refusals."""
    await _zones(api)
    _file(api)
    with control_state(api.app).db.read() as session:
        case = session.scalars(select(AbuseCase).where(AbuseCase.reporter_email == TRUSTED)).first()
    assert case is not None and case.category == "abuse_dmca"
    now = control_state(api.app).now()
    eu = _action(api, case, [], now)
    us = _action(api, case, ["US"], now)
    lumen = (await api.ok("GET", f"/veil/abuse/exports/lumen/{case.id}"))["notice"]
    assert lumen["type"] == "DMCA" and lumen["action_taken"] == "Yes"
    urls = lumen["works_attributes"][0]["infringing_urls_attributes"]
    assert urls == [{"url": "https://shop.example/b"}]
    text = str(lumen)
    assert TRUSTED not in text and "555 0100" not in text and ORIGIN not in text
    statement = await api.ok("GET", f"/veil/abuse/exports/dsa/{eu}")
    assert statement["puid"] == eu and statement["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    refused = await api.client.get(f"/veil/abuse/exports/dsa/{us}")
    assert refused.status_code == 400 and "EU/EEA" in refused.json()["errors"][0]["message"]
    batch = await api.ok("GET", "/veil/abuse/exports/dsa")
    assert [s["puid"] for s in batch["statements"]] == [eu]
    assert batch["skipped"] == [{"action": us, "reason": "the action applies in no EU/EEA country"}]
    for path in ("/veil/abuse/exports/lumen/nope", "/veil/abuse/exports/dsa/nope"):
        assert (await api.client.get(path)).status_code == 404


async def test_lumen_refuses_protected_categories(api: Api) -> None:
    """A CSAM case is never exported to Lumen."""
    await _zones(api)
    state = control_state(api.app)
    notice = Notice(act=Category.CHILDREN, urls="https://shop.example/x", justification="reported")
    with state.db.write() as session:
        [receipt] = file_notice(
            session=session, desk=state.desk, notice=notice, channel="form", now=state.now()
        )
        session.commit()
    response = await api.client.get(f"/veil/abuse/exports/lumen/{receipt.case_id}")
    assert response.status_code == 400 and "never exported" in response.text


def _reasons(case: AbuseCase) -> StatementOfReasons:
    return StatementOfReasons(
        restriction="access to the URL disabled",
        duration="indefinite",
        facts="A valid notice named the URL.",
        followed_notice=True,
        automated_detection=False,
        automated_decision=False,
        ground=Ground.ILLEGAL_CONTENT,
        ground_reference="17 U.S.C. §512(c)",
        explanation="The page copies the work.",
        redress=("internal complaint", "court"),
        notice_reference=case.id,
    )


async def test_report_counts_actions_orders_and_strikes_as_the_tables_do(api: Api) -> None:
    """With actions (one pending then taking effect, one urgent at once) and a court order:
    actions by type, orders by country, strikes and the measured cases equal the tables'."""
    await _zones(api)
    _file(api)
    state = control_state(api.app)
    now = state.now()
    with state.db.write() as session:
        cases = session.scalars(select(AbuseCase).where(AbuseCase.state == "forwarded")).all()
        dmca_case = next(c for c in cases if c.category == "abuse_dmca")
        phishing = next(c for c in cases if c.category == "abuse_phishing")
        pending = propose(
            session=session,
            case=dmca_case,
            type=ActionType.LEGAL_BLOCK,
            statement=_reasons(dmca_case),
            now=now,
        )
        propose(
            session=session,
            case=phishing,
            type=ActionType.PHISHING_INTERSTITIAL,
            statement=_reasons(phishing),
            now=now,
        )
        change_status(session=session, action=pending, event=ActionEvent.TAKE_EFFECT, now=now)
        filed = file_order(
            session=session,
            desk=state.desk,
            order=Order(
                authority="Landgericht Berlin",
                country="DE",
                legal_basis="UrhG § 97",
                urls=("https://blog.example/c",),
                effective_on=now,
                category=Category.DMCA,
            ),
            now=now,
        )
        session.commit()
        order_action = filed.actions[0].id
        order_case = filed.cases[0].id
    report = await api.ok("GET", "/veil/abuse/report")
    expected = _case_counts(api)
    with state.db.read() as session:
        actions = session.scalars(select(AbuseAction)).all()
        strikes = session.scalars(select(AbuseStrike)).all()
        acted = session.scalars(
            select(AbuseCase).where(
                AbuseCase.acted_on.is_not(None), AbuseCase.source != Source.AUTHORITY.value
            )
        ).all()
    for section, counts in expected.items():
        assert report["sections"][section] == dict(counts), section
    assert report["sections"]["orders_by_country"] == {"DE": 1}
    assert report["sections"]["actions_by_type"] == dict(Counter(a.type for a in actions))
    assert report["sections"]["strikes"] == {"issued": len(strikes)}  # the order's too
    measured = report["medians"]["received_to_first_effective_action"]
    assert measured["count"] == len(acted) == 2
    assert report["medians"]["order_to_effective_action"]["count"] == 1
    assert report["sections"]["action_status_changes"] == {"pending -> active": 1}
    statement = await api.ok("GET", f"/veil/abuse/exports/dsa/{order_action}")
    assert statement["territorial_scope"] == ["DE"]
    assert statement["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION"
    lumen = (await api.ok("GET", f"/veil/abuse/exports/lumen/{order_case}"))["notice"]
    assert (lumen["type"], lumen["jurisdiction_list"]) == ("CourtOrder", "DE")
