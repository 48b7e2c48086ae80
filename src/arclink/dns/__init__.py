"""The split-horizon DNS data plane: answers come from ``arclink.model.resolve.resolve()``.

``server.start_dns_server(live)`` serves UDP and TCP on loopback; ``wire.answer()`` is the
pure question-to-answer function it runs (also used by tests and fuzzing).
"""
