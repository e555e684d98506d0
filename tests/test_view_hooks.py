"""A view's bug never reaches the user as Python's text (FAB flashes `str(e)` of whatever a hook raises).

Refusals stay as they are: a DomainError is the workflow's Chinese sentence (SPEC §1: the tool is in Chinese).
"""
import pytest
from flask import g

from app.views.base import ScopedModelView
from app.workflows import DomainError


class _Buggy(ScopedModelView):
    def pre_add(self, item):
        return undefined_name  # noqa: F821 — the bug under test

    def pre_update(self, item):
        raise DomainError("该案件已结案，不能修改。")

    def post_delete(self, item):
        return "deleted"


class _Child(_Buggy):
    def pre_add(self, item):
        return super().pre_add(item)


def test_a_bug_in_a_hook_becomes_one_chinese_sentence_with_the_request_id(app):
    with app.test_request_context("/"):
        g.request_id = "req-12345"  # what app/serving.py's before_request sets
        with pytest.raises(DomainError) as refused:
            _Buggy.pre_add(object.__new__(_Buggy), None)
    message = refused.value.message
    assert "系统错误" in message and "req-12345" in message
    assert "undefined_name" not in message and "NameError" not in message


def test_a_refusal_passes_unchanged_and_a_working_hook_returns(app):
    view = object.__new__(_Buggy)
    with app.test_request_context("/"):
        with pytest.raises(DomainError, match="^该案件已结案，不能修改。$"):
            _Buggy.pre_update(view, None)
        assert _Buggy.post_delete(view, None) == "deleted"


def test_an_overriding_hook_is_guarded_once(app):
    assert _Child.pre_add.refusing_only and _Child.pre_add.__wrapped__.__qualname__ == "_Child.pre_add"
    with app.test_request_context("/"):
        with pytest.raises(DomainError) as refused:
            _Child.pre_add(object.__new__(_Child), None)
    assert "NameError" not in refused.value.message
