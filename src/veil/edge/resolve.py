"""Connect-time origin resolution behind the SSRF guard (edge-threats.md §6).

Resolve a route's address once, check every result with `veil.netguard`, and hand the pool
the exact (ip, port) to connect to — never a name, so a DNS answer that changes between the
check and the connect (rebinding) cannot redirect the edge. IP literals are checked once and
remembered; names are cached for `ttl` seconds. The edge's own listening socket is refused even
with `--allow-private-origins`, so a zone cannot point the edge at itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from veil.netguard import IPNetwork, OriginRefused, parse_ip, resolve_checked

Target = tuple[str, int]


class OriginResolver:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        allow_private: bool,
        own_listen: tuple[str, int],
        ttl: float = 30.0,
    ) -> None:
        self._loop = loop
        self._allow_private = allow_private
        self._ttl = ttl
        self._cache: dict[Target, tuple[float, list[Target] | OriginRefused]] = {}
        host, self._own_port = own_listen
        own_ip = parse_ip(host)
        self._own_any = own_ip is None or own_ip.is_unspecified
        self._own_ip = own_ip
        self._own_nets: tuple[IPNetwork, ...] = ()
        if own_ip is not None and not own_ip.is_unspecified and not allow_private:
            self._own_nets = (ipaddress.ip_network(own_ip),)

    def cached(self, address: str, port: int) -> list[Target] | None:
        """Checked targets without awaiting, or None when a lookup is needed.

        Raises OriginRefused for a remembered refusal.
        """
        hit = self._cache.get((address, port))
        if hit is None:
            return None
        expires, result = hit
        if expires and self._loop.time() > expires:
            return None
        if isinstance(result, OriginRefused):
            raise result
        return result

    async def resolve(self, address: str, port: int) -> list[Target]:
        """Checked targets for a route address. Raises OriginRefused or OSError (523)."""
        literal = parse_ip(address)
        if literal is not None:
            infos = [(str(literal), port)]
            expires = 0.0  # literals never change
        else:
            found = await self._loop.getaddrinfo(
                address, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
            infos = [(str(sockaddr[0]), port) for *_, sockaddr in found]
            expires = self._loop.time() + self._ttl
        try:
            targets = [t for t in self._checked(infos) if not self._is_self(t)]
            if not targets:
                raise OriginRefused("one of the edge's own sockets")
        except OriginRefused as refused:
            self._cache[(address, port)] = (expires, refused)
            raise
        self._cache[(address, port)] = (expires, targets)
        return targets

    def _checked(self, infos: list[Target]) -> list[Target]:
        return resolve_checked(infos, allow_private=self._allow_private, own=self._own_nets)

    def _is_self(self, target: Target) -> bool:
        ip, port = target
        if port != self._own_port:
            return False
        parsed = parse_ip(ip)
        if parsed is None:
            return True
        if self._own_any:
            return parsed.is_loopback or parsed.is_unspecified or parsed.is_private
        return parsed == self._own_ip or (
            parsed.is_loopback and bool(self._own_ip and self._own_ip.is_loopback)
        )
