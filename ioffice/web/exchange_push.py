"""``POST /lien-thong/thong-bao/<hub>``: where the hubs push "something is waiting for you"
(``ioffice.exchange.push``). No login and no CSRF token: the hub signs each notification with
this deployment's secret on it, and an accepted one only wakes the exchange worker."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ioffice.exchange.push import MAX_BODY, PushRefused, accept_notification
from ioffice.exchange.runtime import exchange

bp = Blueprint("exchange_push", __name__)


@bp.post("/lien-thong/thong-bao/<hub_name>")
def notification(hub_name: str):
    if (request.content_length or 0) > MAX_BODY:
        return jsonify({"error": {"code": "too_large", "message": "thông báo quá lớn"}}), 413
    body = request.get_data(cache=False)
    try:
        organ_ids = accept_notification(exchange(current_app), hub_name,
                                        request.script_root + request.path, request.headers, body)
    except PushRefused as exc:
        current_app.logger.warning("push notification from %s refused: %s", hub_name, exc)
        return jsonify({"error": {"code": exc.code, "message": exc.message}}), exc.status
    return jsonify({"accepted": True, "organ_ids": organ_ids}), 202
