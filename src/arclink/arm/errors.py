"""ARM errors as values: ``{"error": {"code", "message", "target", "details"}}`` with the real codes.

Codes and messages follow reference/arm-api.md §6 (observed ARM front-door texts).
"""

from __future__ import annotations

from typing import Any

from arclink.model.rules import Rule


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, target: str | None = None,
                 details: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.target = status, code, message, target
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            err["target"] = self.target
        err["details"] = self.details
        return {"error": err}


def not_found(rtype: str, name: str, rg: str | None) -> ArmError:
    where = f" under resource group '{rg}'" if rg else ""
    return ArmError(404, "ResourceNotFound", f"The Resource '{rtype}/{name}'{where} was not found. For more details "
                                             "please go to https://aka.ms/ARMResourceNotFoundFix")


def rg_not_found(rg: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def missing_registration(ns: str) -> ArmError:
    msg = (f"The subscription is not registered to use namespace '{ns}'. See https://aka.ms/rps-not-found for how "
           "to register subscriptions.")
    return ArmError(409, "MissingSubscriptionRegistration", msg,
                    details=[{"code": "MissingSubscriptionRegistration", "target": ns, "message": msg}])


def write_failed(disk_full: bool, cause: str) -> ArmError:
    """A write the store could not make durable; nothing of it was kept."""
    if disk_full:
        return ArmError(507, "InsufficientStorage", f"The change was not saved: {cause}. Nothing was changed; free "
                                                    "space on the disk of the emulator's state directory and retry.")
    return ArmError(500, "InternalServerError", f"The change was not saved: {cause}. Nothing was changed; retry.")


def bad_request(code: str, message: str, target: str | None = None) -> ArmError:
    return ArmError(400, code, message, target)



def refuse(rule: Rule, problem: str, target: str | None = None, status: int = 400) -> ArmError:
    """A write refused by ``rule`` (one the linter reports too): its ARM code, its id, the problem, its fix."""
    return ArmError(status, rule.arm_code or "BadRequest", f"{rule.id}: {problem.rstrip('.')}. {rule.fix}", target=target)
