"""The administrators' page of API tokens: who holds one, until when, when it was last used,
and a button to revoke it. The service layer decides who may see and revoke them."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..services import tokens
from .auth import login_required
from .util import runtime_of, user

bp = Blueprint("tokens", __name__, url_prefix="/admin/tokens")


@bp.get("")
@login_required
def index():
    username = request.args.get("user", "").strip() or None
    return render_template("tokens/index.html", tokens=tokens.list_tokens(runtime_of(), user(), username),
                           username=username)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    revoked = tokens.revoke_token(runtime_of(), user(), token_id)
    flash(f"Token {token_id} revoked." if revoked else f"Token {token_id} was already revoked; nothing changed.")
    return redirect(url_for("tokens.index"))
