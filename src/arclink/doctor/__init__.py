"""``arclink doctor``: the seed's troubleshooting, automated, like ``azcmagent check --enable-pls-check``.

Call ``run(Config(...))`` for a ``Report``; ``render`` prints it as a table or JSON.
"""

from arclink.doctor.report import CHECKS, SCHEMA_VERSION, Check, Diagnosis, Report
from arclink.doctor.runner import Config, DoctorError, Emulator, run

__all__ = ["CHECKS", "SCHEMA_VERSION", "Check", "Config", "Diagnosis", "DoctorError", "Emulator", "Report", "run"]
