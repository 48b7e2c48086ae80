"""The ARM-compatible emulator: a store, a generic resource engine and an ASGI front door."""
