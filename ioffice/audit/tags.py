"""Audit event tags, ``capability:subject:action`` (as warehouse's events/tags.py)."""

from __future__ import annotations

import enum


class Tag(enum.StrEnum):
    AUTH_LOGIN = "auth:session:login"
    AUTH_LOGIN_FAILED = "auth:session:login-failed"
    AUTH_LOCKED = "auth:session:locked"
    AUTH_LOGOUT = "auth:session:logout"
    AUTH_SWITCH_AGENCY = "auth:session:switch-agency"
    AUTH_PASSWORD_CHANGE = "auth:password:change"
    AUTH_PASSWORD_CHANGE_FAILED = "auth:password:change-failed"
    AGENCY_CREATE = "agencies:agency:create"
    DEPARTMENT_CREATE = "agencies:department:create"
    USER_CREATE = "agencies:user:create"
    USER_UPDATE = "agencies:user:update"
    USER_DEACTIVATE = "agencies:user:deactivate"
    USER_REACTIVATE = "agencies:user:reactivate"
    USER_PASSWORD_RESET = "agencies:user:password-reset"
    USER_UNLOCK = "agencies:user:unlock"
    MEMBERSHIP_GRANT = "agencies:membership:grant"
    CALENDAR_EVENT_SAVE = "calendar:event:save"
    CALENDAR_EVENT_DELETE = "calendar:event:delete"
    CALENDAR_WEEK_PUBLISH = "calendar:week:publish"
    CALENDAR_WEEK_UNPUBLISH = "calendar:week:unpublish"
    CALENDAR_FEED_RESET = "calendar:feed:reset"
