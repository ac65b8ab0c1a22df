"""Home Assistant client over the WebSocket API."""
