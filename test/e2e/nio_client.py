"""Drive matrix-nio (Debian's python3-matrix-nio 0.20) against a running Tessera.

Usage: /usr/bin/python3 nio_client.py BASE_URL USERNAME PASSWORD
Prints one JSON object: what each step returned, for test/e2e/matrix-nio.test.ts to assert.
nio speaks /_matrix/client/r0/... and sends the token as ?access_token= (deprecated but permitted).
"""

import asyncio
import json
import sys

from nio import AsyncClient, LoginResponse, LogoutResponse, RegisterResponse
from nio.responses import WhoamiResponse


def summary(resp):
    """The type and the public fields of a nio response (errors carry status_code and message)."""
    out = {"type": type(resp).__name__}
    for key in ("user_id", "device_id", "access_token", "status_code", "message", "soft_logout"):
        value = getattr(resp, key, None)
        if value is not None and not callable(value):
            out[key] = value
    return out


async def main(base_url, username, password):
    result = {}
    client = AsyncClient(base_url, username)
    try:
        # register() sends {"auth": {"type": "m.login.dummy"}, ...} in one request.
        reg = await client.register(username, password, device_name="nio register")
        result["register"] = summary(reg)
        if isinstance(reg, RegisterResponse):
            who = await client.whoami()
            result["whoami_after_register"] = summary(who)

        # A fresh client logs in with the password, like a bot starting up.
        bot = AsyncClient(base_url, username)
        try:
            login = await bot.login(password, device_name="nio login")
            result["login"] = summary(login)
            if isinstance(login, LoginResponse):
                who = await bot.whoami()
                result["whoami"] = summary(who)
                result["whoami_ok"] = isinstance(who, WhoamiResponse)
                out = await bot.logout()
                result["logout"] = summary(out)
                result["logout_ok"] = isinstance(out, LogoutResponse)
                # logout() forgets the token client-side; put it back to prove the server revoked it.
                bot.access_token = login.access_token
                after = await bot.whoami()
                result["whoami_after_logout"] = summary(after)

            stranger = AsyncClient(base_url, username)
            try:
                wrong = await stranger.login("not the password")
                result["wrong_password"] = summary(wrong)
            finally:
                await stranger.close()
        finally:
            await bot.close()
    finally:
        await client.close()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
