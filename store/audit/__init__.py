"""The tamper-evident audit log: append (`chain`), verify, export, explain, backfill.

Every event of every stream, in one hash chain (`store.audit.canonical` defines exactly
what is hashed). Written by `consumers.audit`, checked and read by `spamops audit ...`;
see docs/security.md.

Import from the modules (`store.audit.chain`, `store.audit.verify`, ...): this file
imports nothing, so that the consumer does not pay for explain or the bus replay.
"""
