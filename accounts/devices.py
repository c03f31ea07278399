from dataclasses import dataclass

from user_agents import parse

from leadnexus.core.ratelimit import client_ip


@dataclass(frozen=True)
class Device:
    """Where a sign-in comes from: recorded on its session and named in emails."""

    ip: str | None
    user_agent: str

    @classmethod
    def of(cls, request) -> "Device":
        return cls(ip=client_ip(request) or None, user_agent=request.headers.get("User-Agent", "")[:500])


def describe_device(user_agent: str) -> str:
    """ "Chrome 156 on Linux", "Python Requests 2.31": readable enough to recognise a sign-in."""
    if not user_agent:
        return "Unknown device"
    agent = parse(user_agent)
    browser = " ".join(part for part in (agent.browser.family, agent.browser.version_string.split(".")[0]) if part)
    if agent.os.family and agent.os.family != "Other":
        return f"{browser} on {agent.os.family}"
    return browser if browser != "Other" else user_agent[:60]
