"""The Python original's server side (PyPI `waygate`, the version pinned in
`scripts/python-server-env`), served for the wire-compatibility tests of the Rust CLI
(`waygate-cli/tests/python_server.rs`):

    "$(scripts/python-server-env)" scripts/python_server.py basic
    "$(scripts/python-server-env)" scripts/python_server.py server
    "$(scripts/python-server-env)" scripts/python_server.py flags
    WAYGATE_SERVER_URL=http://127.0.0.1:8001 \
      "$(scripts/python-server-env)" scripts/python_server.py sdk

`basic`: its FastAPI "Basic usage" example — the same routes as our `basic` example,
`WaygateMiddleware` in front, `WaygateAdmin` mounted at `/waygate` (user admin/secret).

`server`: a standalone `WaygateServer` on a memory backend (user admin/secret), the central
server that service apps register with; its admin API is at the root.

`flags`: an admin app (`WaygateAdmin` at `/waygate`, user admin/secret) whose engine has
the flag system on (`engine.use_openfeature()`), for our CLI's `flags` and `segments`.

`sdk`: a small FastAPI service attached with the Python `WaygateSDK` to the Waygate Server
at `WAYGATE_SERVER_URL` (ours or the Python one) as `WAYGATE_APP_ID` (default
`python-service`), logging in as `WAYGATE_USERNAME` / `WAYGATE_PASSWORD` when given. Its
routes: `GET /health` (force-active), `GET /api/payments` (starts in maintenance),
`GET /api/orders` and `GET /api/limited` (active); its flag provider is on
(`sdk.use_openfeature()`), and `GET /flag/{key}?user=u` answers
`{"key", "user", "value"}`: the boolean flag `key` for context key `u` (default `false`).

Binds 127.0.0.1 on a free port (or `PORT`) and prints `listening on http://127.0.0.1:PORT`
once it accepts connections, then serves until SIGTERM/SIGINT.
"""

import asyncio
import os
import socket
import sys

import uvicorn
from fastapi import FastAPI
from waygate import make_engine
from waygate.core.backends.memory import MemoryBackend
from waygate.server import WaygateServer
from waygate.fastapi import (
    WaygateAdmin,
    WaygateMiddleware,
    WaygateRouter,
    deprecated,
    disabled,
    env_only,
    force_active,
    maintenance,
)

CURRENT_ENV = os.getenv("APP_ENV", "dev")
engine = make_engine(current_env=CURRENT_ENV)
router = WaygateRouter(engine=engine)


@router.get("/health")
@force_active
async def health():
    return {"status": "ok", "env": CURRENT_ENV}


@router.get("/payments")
@maintenance(reason="Scheduled database migration — back at 04:00 UTC")
async def get_payments():
    return {"payments": []}


@router.get("/debug")
@env_only("dev")
async def debug():
    return {"debug": True, "env": CURRENT_ENV}


@router.get("/old-endpoint")
@disabled(reason="Use /v2/endpoint instead")
async def old_endpoint():
    return {}


@router.get("/v1/users")
@deprecated(sunset="Sat, 01 Jan 2027 00:00:00 GMT", use_instead="/v2/users")
async def v1_users():
    return {"users": [{"id": 1, "name": "Alice"}]}


@router.get("/v2/users")
async def v2_users():
    return {"users": [{"id": 1, "name": "Alice"}]}


basic = FastAPI(title="waygate — Basic Example")
basic.add_middleware(WaygateMiddleware, engine=engine)
basic.include_router(router)
basic.mount(
    "/waygate",
    WaygateAdmin(engine=engine, auth=("admin", "secret"), prefix="/waygate"),
)

central = WaygateServer(backend=MemoryBackend(), auth=("admin", "secret"))


def make_sdk_app() -> FastAPI:
    """The `sdk` app (built on demand: it needs `WAYGATE_SERVER_URL`)."""
    from waygate.sdk import WaygateSDK

    sdk = WaygateSDK(
        server_url=os.environ["WAYGATE_SERVER_URL"],
        app_id=os.getenv("WAYGATE_APP_ID", "python-service"),
        username=os.getenv("WAYGATE_USERNAME"),
        password=os.getenv("WAYGATE_PASSWORD"),
        reconnect_delay=0.5,
    )
    app = FastAPI(title="waygate — Python SDK service")
    sdk.attach(app)
    sdk_router = WaygateRouter(engine=sdk.engine)

    # Its flag provider (`WaygateSDKFlagProvider`, what `sdk.use_openfeature()` installs):
    # flags read from the server, then followed over the SDK stream. Upstream's provider
    # never starts by itself with openfeature-sdk 0.10: the SDK calls `initialize` in a
    # thread of its own, where there is no event loop, and `initialize` then does nothing.
    # So it is called once more here, inside the loop, after the SDK has started.
    sdk.use_openfeature()

    @app.on_event("startup")
    async def _flags_on() -> None:
        sdk.engine._flag_provider.initialize()

    @app.get("/flag/{key}")
    async def flag_value(key: str, user: str = "anonymous"):
        value = await sdk.engine.flag_client.get_boolean_value(key, False, {"targeting_key": user})
        return {"key": key, "user": user, "value": value}

    @sdk_router.get("/health")
    @force_active
    async def sdk_health():
        return {"status": "ok"}

    @sdk_router.get("/api/payments")
    @maintenance(reason="Payment processor upgrade")
    async def sdk_payments():
        return {"payments": []}

    @sdk_router.get("/api/orders")
    async def sdk_orders():
        return {"orders": []}

    @sdk_router.get("/api/limited")
    async def sdk_limited():
        return {"limited": True}

    app.include_router(sdk_router)
    return app


def make_flags_app() -> FastAPI:
    """The `flags` app: an admin with the flag system on (`engine.use_openfeature()` before
    `WaygateAdmin`, without which upstream mounts no flag routes)."""
    flags_engine = make_engine(current_env=CURRENT_ENV)
    flags_engine.use_openfeature()
    app = FastAPI(title="waygate — flags admin")
    app.mount(
        "/waygate",
        WaygateAdmin(engine=flags_engine, auth=("admin", "secret"), prefix="/waygate"),
    )
    return app


class _Server(uvicorn.Server):
    """Prints the address once the socket accepts connections."""

    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        host, port = sockets[0].getsockname()[:2]
        print(f"listening on http://{host}:{port}", flush=True)


def main() -> None:
    apps = {
        "basic": lambda: basic,
        "server": lambda: central,
        "sdk": make_sdk_app,
        "flags": make_flags_app,
    }
    if len(sys.argv) != 2 or sys.argv[1] not in apps:
        sys.exit(f"usage: {sys.argv[0]} basic|server|sdk|flags")
    app = apps[sys.argv[1]]()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(os.getenv("PORT", "0"))))
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = _Server(config)
    asyncio.run(server.serve(sockets=[sock]))


if __name__ == "__main__":
    sys.exit(main())
