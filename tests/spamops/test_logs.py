from __future__ import annotations

import io
import json
import logging

from bus.correlation import correlation_id
from spamops.logs import JsonFormatter, configure_logging


def test_json_lines_carry_the_correlation_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("api"))
    logger = logging.getLogger("spamops.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    token = correlation_id.set("req-7")
    try:
        logger.warning("model %s loaded", 3, extra={"version": 3})
    finally:
        correlation_id.reset(token)
    logger.warning("no correlation")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "model 3 loaded" and first["correlation_id"] == "req-7"
    assert first["component"] == "api" and first["level"] == "warning" and first["version"] == 3
    assert "correlation_id" not in second


def test_configure_logging_installs_one_handler() -> None:
    configure_logging("consumer", "INFO", "text")
    configure_logging("consumer", "INFO", "json")
    assert len(logging.getLogger().handlers) == 1
