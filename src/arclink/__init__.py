"""arclink: Azure Arc Private Link for Arc-enabled Kubernetes, on one machine.

Layout: ``model`` is the middle (topology, catalogue, resolve, reach, rules'
checks); each face (``arm``, ``dns``, ``gateway``, ``agent``, ``rules``,
``export``, ``doctor``) depends on the model only; ``cli`` composes them.
"""

__version__ = "0.1.0"
