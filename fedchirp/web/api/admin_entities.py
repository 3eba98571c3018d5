"""Mastodon's Report, Admin::Account and Admin::Report entities from our records
(docs.joinmastodon.org/entities/Report, Admin_Account, Admin_Report)."""

from __future__ import annotations

from typing import Any

from fedchirp.services import reports
from fedchirp.store.models import Account, LocalUser, Report
from fedchirp.web.api.entities import Renderer

# Mastodon 4's roles: what Admin::Account.role shows for admins and for everyone else.
ADMIN_ROLE = {"id": "3", "name": "Admin", "color": "", "permissions": "1", "highlighted": True}
USER_ROLE = {"id": "-99", "name": "", "color": "", "permissions": "65536", "highlighted": False}


def _report_fields(report: Report) -> dict[str, Any]:
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": report.action_taken_at,
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": report.created_at,
    }


async def report(renderer: Renderer, report: Report, target: Account) -> dict[str, Any]:
    """The Report a user gets back when they file one."""
    return {
        **_report_fields(report),
        "status_ids": [str(i) for i in reports.status_ids_of(report)] or None,
        "rule_ids": [str(i) for i in reports.rule_ids_of(report)] or None,
        "target_account": await renderer.account(target),
    }


async def admin_account(
    renderer: Renderer, account: Account, user: LocalUser | None
) -> dict[str, Any]:
    """Admin::Account: the account with what only admins see."""
    return {
        "id": str(account.id),
        "username": account.username,
        "domain": account.domain or None,
        "created_at": user.created_at if user else account.created_at,
        "email": (user.email or "") if user else "",
        "ip": None,
        "ips": [],
        "locale": "",
        "invite_request": (user.sign_up_reason or None) if user else None,
        "role": ADMIN_ROLE if user and user.is_admin else USER_ROLE,
        "confirmed": user is not None,
        "approved": user.approved if user else True,
        "disabled": user.disabled if user else False,
        "sensitized": False,
        "silenced": account.silenced_at is not None,
        "suspended": account.suspended_at is not None,
        "account": await renderer.account(account),
        "created_by_application_id": None,
        "invited_by_account_id": None,
    }


async def admin_accounts_by_id(renderer: Renderer, ids: set[int]) -> dict[int, dict[str, Any]]:
    store = renderer.ctx.store
    found = await store.get_accounts(ids)
    result = {}
    for account_id, account in found.items():
        user = await store.get_local_user(account_id)
        result[account_id] = await admin_account(renderer, account, user)
    return result


async def admin_report(renderer: Renderer, report: Report) -> dict[str, Any]:
    """Admin::Report: the report with the accounts involved as Admin::Accounts, its posts
    and the rules it names."""
    store = renderer.ctx.store
    people = {report.account_id, report.target_account_id}
    people |= {i for i in (report.assigned_account_id, report.action_taken_by_id) if i}
    admins = await admin_accounts_by_id(renderer, people)
    found = await store.get_statuses(reports.status_ids_of(report))
    statuses = await renderer.statuses(sorted(found.values(), key=lambda s: s.id))
    rules = await store.rule_texts(reports.rule_ids_of(report))
    return {
        **_report_fields(report),
        "updated_at": report.updated_at,
        "account": admins.get(report.account_id),
        "target_account": admins.get(report.target_account_id),
        "assigned_account": admins.get(report.assigned_account_id or 0),
        "action_taken_by_account": admins.get(report.action_taken_by_id or 0),
        "statuses": statuses,
        "rules": [
            {"id": str(i), "text": text, "hint": hint} for i, (text, hint) in sorted(rules.items())
        ],
    }
