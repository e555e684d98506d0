"""当事人 包含: the bigram index of the party names (app/name_grams.py) finds exactly what the LIKE finds."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.models import Case, CaseNameGram, CaseParty
from app.name_grams import name_grams, party_names_contain

from .case_factory import make_case
from .helpers import app_ctx, text

LIST = "/cases/pre-litigation/list/?_flt_2_party_names="


def _parties(*names):
    return [("APPLICANT" if i == 0 else "RESPONDENT", name, f"135111100{i + 10}", None)
            for i, name in enumerate(names)]


@pytest.fixture()
def cases(app):
    """Cases of 朝阳 whose names do and do not contain 张伟, and one of 海淀 that does."""
    return {
        "whole": make_case(app, parties=_parties("张伟", "李娜")),
        "inside": make_case(app, parties=_parties("老张伟明", "钱多多")),
        "split": make_case(app, parties=_parties("小张", "伟明哥")),
        "reversed": make_case(app, parties=_parties("伟张", "王五")),
        "other_court": make_case(app, court_code="京0108", parties=_parties("张伟", "赵六")),
        "latin": make_case(app, parties=_parties("Zhang Wei", "李%娜")),
    }


def _found(app, pattern) -> set[int]:
    with app_ctx(app):
        return set(db.session.scalars(sa.select(Case.id).where(party_names_contain(Case.party_names, pattern))))


def _brute_force(app, pattern) -> set[int]:
    with app_ctx(app):
        return {case_id for case_id, names in db.session.execute(sa.select(Case.id, Case.party_names))
                if pattern.lower() in (names or "").lower()}


def test_name_grams_are_each_names_bigrams_lower_cased():
    assert name_grams("张伟、李娜") == {"张伟", "李娜"}
    assert name_grams("老张伟明") == {"老张", "张伟", "伟明"}
    assert name_grams("张、伟") == set()
    assert name_grams("ABc公司") == {"ab", "bc", "c公", "公司"}
    assert name_grams("") == name_grams(None) == set()


def test_every_case_writes_its_grams_in_the_same_flush(app, cases):
    with app_ctx(app):
        for case_id in cases.values():
            stored = set(db.session.scalars(sa.select(CaseNameGram.gram).where(CaseNameGram.case_id == case_id)))
            assert stored == name_grams(db.session.get(Case, case_id).party_names)


@pytest.mark.parametrize("pattern", ["张伟", "张伟明", "老张伟明", "张伟、李", "伟", "张", "ZHANG", "张%伟", "_伟",
                                     "", "李娜、王", "zhang w", "Wei", "%", "李%娜", "%娜", "g W"])
def test_the_index_finds_exactly_what_the_like_finds(app, cases, pattern):
    assert _found(app, pattern) == _brute_force(app, pattern)


def test_zhang_wei_is_found_whole_not_split_across_names_nor_reversed(app, cases):
    found = _found(app, "张伟")
    assert {cases["whole"], cases["inside"], cases["other_court"]} <= found
    assert cases["split"] not in found and cases["reversed"] not in found
    assert cases["split"] in _found(app, "伟")  # one character: the LIKE alone


def test_a_pattern_with_bigrams_reads_the_index_and_one_character_does_not():
    assert "case_name_gram" in str(sa.select(Case.id).where(party_names_contain(Case.party_names, "张伟")))
    assert "case_name_gram" not in str(sa.select(Case.id).where(party_names_contain(Case.party_names, "伟")))
    assert "case_name_gram" not in str(sa.select(Case.id).where(party_names_contain(Case.party_names, "张、伟")))


def test_a_pattern_without_cased_letters_is_a_plain_like_and_one_with_them_ignores_case(app, cases):
    """ILIKE lower-cases every row's names; 张 or 2024 has no case to ignore, so it is a plain LIKE
    (which the case list index can filter on PostgreSQL, migration 0026)."""
    def sql(pattern):
        return str(sa.select(Case.id).where(party_names_contain(Case.party_names, pattern)).compile(db.engine))

    with app_ctx(app):
        for pattern in ("张", "伟明", "2024", "李%娜"):
            assert "lower(" not in sql(pattern) and "ILIKE" not in sql(pattern), pattern
        assert "lower(" in sql("zhang") or "ILIKE" in sql("zhang")
    assert _found(app, "ZHANG W") == _found(app, "zhang w") == {cases["latin"]}
    assert _found(app, "%") == {cases["latin"]}  # literal, not a wildcard


def test_the_case_list_filter_shows_only_the_courts_cases_containing_the_name(app, cases, login_as):
    page = text(login_as("13800000001").get(LIST + quote("张伟")))
    assert "李娜" in page and "钱多多" in page  # the cases' other parties
    assert "伟明哥" not in page and "王五" not in page and "赵六" not in page
    one = text(login_as("13800000001").get(LIST + quote("伟")))
    assert "伟明哥" in one and "王五" in one and "赵六" not in one
    three = text(login_as("13800000001").get(LIST + quote("老张伟")))
    assert "钱多多" in three and "李娜" not in three
    assert '[["party_names", ' + json.dumps("包含") in page  # the active filter, labelled as FAB's


def test_the_other_court_finds_only_its_own(app, cases, login_as):
    page = text(login_as("13800000011").get(LIST + quote("张伟")))
    assert "赵六" in page and "李娜" not in page and "钱多多" not in page


def test_a_renamed_or_removed_party_is_no_longer_found(app, cases, login_as):
    admin = login_as("13800000001")
    with app_ctx(app):
        zhang = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == cases["whole"],
                                                                CaseParty.name == "张伟"))
        qian = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == cases["inside"],
                                                               CaseParty.name == "钱多多"))
        laozhang = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == cases["inside"],
                                                                   CaseParty.name == "老张伟明"))
    resp = admin.post(f"/case-parties/edit/{zhang}", data={"role": "APPLICANT", "kind": "PERSON", "name": "张卫",
                                                           "phone": "13511110010"})
    assert resp.status_code == 302
    assert cases["whole"] not in _found(app, "张伟") and cases["whole"] in _found(app, "张卫")
    assert admin.post(f"/case-parties/delete/{laozhang}").status_code == 302
    assert cases["inside"] not in _found(app, "张伟") and cases["inside"] in _found(app, "钱多")
    assert qian  # the remaining party keeps the case findable by its name
    assert _found(app, "张伟") == _brute_force(app, "张伟")


def test_the_api_contains_filter_on_party_names_uses_the_index(app, cases, login_as):
    q = "(filters:!((col:party_names,opr:ct,value:'张伟')))"
    client = login_as("13800000001")
    statements = []
    with app_ctx(app):
        engine = db.engine
    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        resp = client.get("/api/v1/case/?q=" + quote(q))
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert any("case_name_gram" in s for s in statements)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    names = [row["party_names"] for row in resp.get_json()["result"]]
    assert "张伟、李娜" in names and "老张伟明、钱多多" in names
    assert all("张伟" in n for n in names) and "张伟、赵六" not in names


def test_the_migration_backfills_the_grams_of_existing_cases(fresh_app):
    with fresh_app.app_context():
        downgrade(revision="0015_i17w_claims")  # the revision before 0016_i17grams_name_grams
        assert "case_name_gram" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        with db.engine.connect() as conn:
            cases = conn.execute(sa.select(Case.id, Case.party_names)).all()
            stored = conn.execute(sa.select(CaseNameGram.case_id, CaseNameGram.gram)).all()
        assert len(cases) > 5 and any(name_grams(names) for _id, names in cases)
        assert set(stored) == {(case_id, g) for case_id, names in cases for g in name_grams(names)}
        db.session.remove()


def test_a_deleted_case_takes_its_grams_with_it(app, cases):
    with app_ctx(app):
        db.session.delete(db.session.get(Case, cases["whole"]))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseNameGram)
                                 .where(CaseNameGram.case_id == cases["whole"])) == 0


def _found_in(app, pattern, court_id) -> set[int]:
    with app_ctx(app):
        return set(db.session.scalars(sa.select(Case.id).where(
            Case.court_id == court_id, party_names_contain(Case.party_names, pattern, court_id))))


def _brute_force_in(app, pattern, court_id) -> set[int]:
    with app_ctx(app):
        return {case_id for case_id, names in db.session.execute(
            sa.select(Case.id, Case.party_names).where(Case.court_id == court_id))
            if pattern.lower() in (names or "").lower()}


@pytest.mark.parametrize("pattern", ["张伟", "张伟明", "伟", "张伟、李", "ZHANG", "张%伟"])
def test_a_courts_search_reads_its_own_grams_and_finds_exactly_what_the_like_finds(app, cases, pattern):
    from .helpers import demo_ids

    ids = demo_ids(app)
    for court in ("chaoyang", "haidian"):
        assert _found_in(app, pattern, ids[court]) == _brute_force_in(app, pattern, ids[court])
    assert "case_name_gram.court_id" in str(sa.select(Case.id).where(party_names_contain(Case.party_names, "张伟", 1)))
    assert "case_name_gram.court_id" not in str(sa.select(Case.id).where(party_names_contain(Case.party_names, "张伟")))


def test_every_gram_carries_its_cases_court(app, cases):
    with app_ctx(app):
        wrong = db.session.scalar(sa.select(sa.func.count()).select_from(CaseNameGram).join(
            Case, Case.id == CaseNameGram.case_id).where(
            sa.or_(CaseNameGram.court_id != Case.court_id,
                   sa.and_(CaseNameGram.court_id.is_(None), Case.court_id.is_not(None)))))
        assert wrong == 0


def test_a_case_moved_to_another_court_is_found_in_its_new_court_only(app, login_as):
    """The grams follow the case's court (an internet case a court accepts changes court): set through the
    relationship alone, as `case.court = court` does."""
    from app.models import Court

    moved = make_case(app, parties=_parties("欧阳娜娜", "司马光"))
    with app_ctx(app):
        case = db.session.get(Case, moved)
        case.court = db.session.scalar(sa.select(Court).where(Court.code == "京0108"))
        db.session.commit()
        courts = set(db.session.scalars(sa.select(CaseNameGram.court_id).where(CaseNameGram.case_id == moved)))
        assert courts == {case.court_id}
    assert "司马光" not in text(login_as("13800000001").get(LIST + quote("欧阳")))
    assert "司马光" in text(login_as("13800000011").get(LIST + quote("欧阳")))


def test_the_gram_court_migration_fills_the_courts_and_downgrades(fresh_app):
    with fresh_app.app_context():
        downgrade(revision="0022_i17fix_job_attempts")  # the revision before 0023_i17fix_gram_court
        inspector = sa.inspect(db.engine)
        assert "court_id" not in {c["name"] for c in inspector.get_columns("case_name_gram")}
        assert "ix_case_name_gram_court" not in {i["name"] for i in inspector.get_indexes("case_name_gram")}
        upgrade()
        inspector = sa.inspect(db.engine)
        assert "ix_case_name_gram_court" in {i["name"] for i in inspector.get_indexes("case_name_gram")}
        with db.engine.connect() as conn:
            courts = dict(conn.execute(sa.select(Case.id, Case.court_id)).all())
            stored = conn.execute(sa.select(CaseNameGram.case_id, CaseNameGram.court_id)).all()
        assert stored and all(court_id == courts[case_id] for case_id, court_id in stored)
        db.session.remove()
