"""Reading the deployment people really have into a topology: Azure through ARM or Resource Graph,
on-premises DNS servers from their own configuration files, and the differences between two topologies.

A face of its own: it reads ``arclink.model`` and the shared plumbing (``arclink.endpoints``,
``arclink.net``), never another face. The command line composes it (``arclink import``, ``arclink diff``).
"""
