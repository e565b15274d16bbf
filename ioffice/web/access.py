"""Role checks for pages: ``@operation(Op.X)`` on a view, ``may(Op.X)`` in a template.

Both ask the one role table (``ioffice.agencies.permissions.RULES``) that the API and the
service layer ask. Every view that needs a login declares its operation, and the declaration
is kept on the view (``view.operation``) so a test can check that no route was forgotten.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from flask_login import current_user, login_required

from ioffice.agencies.permissions import Op, allowed, refusal
from ioffice.errors import Forbidden

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["Op", "init_app", "may", "operation"]


def may(op: Op) -> bool:
    """Whether the logged-in user's roles in the current agency allow ``op``."""
    return bool(current_user.is_authenticated and allowed(current_user.roles, op))


def operation(op: Op | None) -> Callable[[F], F]:
    """Log-in required, then ``op`` allowed to the user's roles; else the 403 page.
    ``None`` declares a page that every logged-in user may open."""

    def deco(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if op is not None and not may(op):
                raise Forbidden(refusal(op))
            return view(*args, **kwargs)

        wrapped.operation = op  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return deco


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(may=may, Op=Op)
