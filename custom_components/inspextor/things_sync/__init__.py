"""things_sync: controllers exchanging the state of things as JSON over UDP, no broker.

A sans-IO protocol core (no Home Assistant import, no sockets): `site` (the site file),
`wire` (datagram codec), `msgid` (message ids and the de-duplication window), `sign` (the
optional HMAC), `pending` (repeat-until-acknowledged with backoff), `engine` (all of it
together), and one thin asyncio adapter, `udp`. docs/protocol.md, contract 3, is the
reference.
"""
