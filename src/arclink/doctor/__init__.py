"""``arclink doctor``: the seed's troubleshooting, automated, like ``azcmagent check --enable-pls-check``.

Call ``run(Config(...))`` for a ``Report``; ``render`` prints it as a table or JSON.
"""

from arclink.doctor.report import CHECKS, SCHEMA_VERSION, Check, Diagnosis, Report
from arclink.doctor.config import Config, DoctorError, Emulator
from arclink.doctor.runner import run

__all__ = ["CHECKS", "SCHEMA_VERSION", "Check", "Config", "Diagnosis", "DoctorError", "Emulator", "Report", "run"]
