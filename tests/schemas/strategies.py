"""Hypothesis strategies derived from pydantic models, honouring their field constraints."""

from __future__ import annotations

import types
import typing
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Union, get_args, get_origin
from uuid import UUID

import annotated_types as at
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo


def _bounded_number(kind: type, meta: list[Any]) -> st.SearchStrategy[Any]:
    lo: float | None = None
    hi: float | None = None
    lo_open = hi_open = False
    for m in meta:
        if isinstance(m, at.Ge):
            lo = float(m.ge)  # type: ignore[arg-type]
        elif isinstance(m, at.Gt):
            lo, lo_open = float(m.gt), True  # type: ignore[arg-type]
        elif isinstance(m, at.Le):
            hi = float(m.le)  # type: ignore[arg-type]
        elif isinstance(m, at.Lt):
            hi, hi_open = float(m.lt), True  # type: ignore[arg-type]
    if kind is int:
        low = None if lo is None else int(lo) + (1 if lo_open else 0)
        high = None if hi is None else int(hi) - (1 if hi_open else 0)
        return st.integers(min_value=low if low is not None else -(2**40), max_value=high or 2**40)
    return st.floats(
        min_value=lo,
        max_value=hi,
        exclude_min=lo_open,
        exclude_max=hi_open,
        allow_nan=False,
        allow_infinity=False,
    )


def _text(meta: list[Any]) -> st.SearchStrategy[str]:
    pattern = next((getattr(m, "pattern", None) for m in meta if getattr(m, "pattern", None)), None)
    if pattern:
        return st.from_regex(pattern, fullmatch=True)
    min_len = next((m.min_length for m in meta if isinstance(m, at.MinLen)), 0)
    max_len = next((m.max_length for m in meta if isinstance(m, at.MaxLen)), 30)
    alphabet = st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_categories=["Cs"])
    return st.text(alphabet=alphabet, min_size=min_len, max_size=min(max_len, 30))


def for_type(tp: Any, meta: list[Any] | None = None) -> st.SearchStrategy[Any]:
    meta = meta or []
    origin = get_origin(tp)
    if origin is typing.Annotated:
        base, *extra = get_args(tp)
        return for_type(base, meta + list(extra))
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if origin in (Union, types.UnionType):
        return st.one_of(*(for_type(a, meta) for a in get_args(tp)))
    if origin is tuple:
        return st.lists(for_type(get_args(tp)[0]), max_size=3).map(tuple)
    if origin is dict:
        k, v = get_args(tp)
        return st.dictionaries(for_type(k), for_type(v), max_size=3)
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return model_strategy(tp)
    if tp is bool:
        return st.booleans()
    if tp in (int, float):
        return _bounded_number(tp, meta)
    if tp is str:
        return _text(meta)
    if tp is UUID:
        return st.uuids()
    if tp is datetime:
        return st.datetimes(
            min_value=datetime(2000, 1, 1),
            max_value=datetime(2100, 1, 1),
            timezones=st.sampled_from([UTC]),
        )
    if tp is timedelta:
        return st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=999))
    name = getattr(tp, "__name__", str(tp))
    if name == "AwareDatetime" or "AwareDatetime" in str(tp):
        return for_type(datetime)
    raise NotImplementedError(f"no strategy for {tp!r}")


def _field(info: FieldInfo) -> st.SearchStrategy[Any]:
    return for_type(info.annotation, list(info.metadata))


def model_strategy(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    fields = {name: _field(info) for name, info in model.model_fields.items()}
    return st.fixed_dictionaries(fields).map(lambda data: model(**data))
