"""The all-in-one launcher: every process of spamops on one machine, supervised.

`spamops up` (`stack.run_stack`) starts Redis, the consumers, the API, the scheduler, the
dashboard and the MLflow UI under one `Supervisor`; `spamops init` runs only the preparation
(`prepare.prepare`) for the compose file's init service.
"""

from spamops.launcher.specs import Backoff, ProcessSpec
from spamops.launcher.supervisor import Supervisor

__all__ = ["Backoff", "ProcessSpec", "Supervisor"]
