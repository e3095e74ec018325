"""Pure parts of the public pages: the rate limiter and the form catalogue."""

from __future__ import annotations

import pytest

from veil.abuse.notices import Category, Notice, validate
from veil.control.web.catalog import FORMS, field_for, spec_for
from veil.control.web.limits import FormLimiter


def test_limiter_allows_limit_posts_per_window_then_says_how_long_to_wait() -> None:
    """`limit` posts pass, the next waits until the window ends; a new window starts afresh."""
    limiter = FormLimiter(limit=2, window=60, max_clients=10)
    assert limiter.allow("a", 0.0) is None and limiter.allow("a", 1.0) is None
    assert limiter.allow("a", 10.0) == 50.0
    assert limiter.allow("b", 10.0) is None
    assert limiter.allow("a", 60.0) is None


def test_limiter_memory_is_bounded_by_max_clients() -> None:
    """A flood of addresses never holds more than max_clients windows (oldest forgotten)."""
    limiter = FormLimiter(limit=1, window=60, max_clients=3)
    for i in range(100):
        limiter.allow(f"10.0.0.{i}", float(i))
    assert len(limiter) == 3
    assert limiter.allow("10.0.0.0", 100.0) is None  # forgotten: counts afresh


def test_limiter_refuses_nonsense_settings() -> None:
    """Zero or negative limits are a programming error."""
    with pytest.raises(ValueError):
        FormLimiter(limit=0)


def test_every_category_has_a_form_whose_required_fields_satisfy_the_validator() -> None:
    """Filling exactly the required fields of each form (with sensible values) validates."""
    sample = {
        "urls": "https://shop.example/x",
        "email": "a@b.example",
        "email2": "a@b.example",
        "statement_good_faith": "1",
        "statement_accuracy_perjury": "1",
    }
    assert set(FORMS) == set(Category)
    for category, spec in FORMS.items():
        values = {f.name: f.default for f in spec.fields}
        for f in spec.fields:
            if f.required:
                values[f.name] = sample.get(f.name, "Some text")
        notice = Notice.from_fields({**values, "act": category.value})
        assert validate(notice).complete, (category, validate(notice).problems)


def test_problems_are_shown_beside_the_right_field() -> None:
    """Validation elements map to inputs; `contact` to the name, or to the e-mail once a name
    is given."""
    assert field_for("work", {}) == "original_work"
    assert field_for("material", {}) == "urls"
    assert field_for("good_faith", {}) == "statement_good_faith"
    assert field_for("accuracy_and_authority", {}) == "statement_accuracy_perjury"
    assert field_for("anonymity", {}) == "host_notification"
    assert field_for("contact", {"name": ""}) == "name"
    assert field_for("contact", {"name": "Ada"}) == "email"
    assert field_for("trademark_number", {}) == "trademark_number"


def test_spec_for_refuses_unknown_types() -> None:
    """Only the eight report types have a form."""
    assert spec_for("abuse_dmca") is FORMS[Category.DMCA]
    assert spec_for("abuse_spam") is None and spec_for("") is None
