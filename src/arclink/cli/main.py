"""The ``arclink`` command: a table of sub-commands imported only when used.

``arclink --help`` must answer in well under a second, so nothing heavy is
imported here: each sub-command lives in its own module with
``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from arclink.stack import StackError

# name -> (module, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("arclink.cli.demo", "Run the whole story: emulator, seed steps, three clusters, checks."),
    "lint": ("arclink.cli.lint", "Check a topology against rules APL001-APL025."),
    "rules": ("arclink.cli.rules", "List the rule catalogue."),
    "explain": ("arclink.cli.explain", "Trace each cluster's path: DNS, route, firewall, admission."),
    "schema": ("arclink.cli.schema", "Print the topology file's JSON Schema."),
    "resolve": ("arclink.cli.resolve", "Trace how a name resolves from a site, VNet or address."),
    "serve": ("arclink.cli.serve", "Start the ARM emulator, DNS server and private-endpoint gateway."),
    "dns": ("arclink.cli.dns", "Run the split-horizon DNS server alone for a topology file."),
    "state": ("arclink.cli.state", "Export or import the emulator's state as a topology file."),
    "connect": ("arclink.cli.connect", "Onboard a cluster like 'az connectedk8s connect'."),
    "enable-features": ("arclink.cli.enable_features", "Enable cluster features like 'az connectedk8s enable-features'."),
    "agent": ("arclink.cli.agent", "Run a cluster's Arc agent against the emulator."),
    "fleet": ("arclink.cli.fleet", "Onboard many simulated clusters at once."),
    "doctor": ("arclink.cli.doctor", "Run the private-link troubleshooting checks."),
    "export": ("arclink.cli.export", "Write deployable configuration from a topology."),
    "apply": ("arclink.cli.apply", "Create a topology through the emulator's ARM API."),
    "import": ("arclink.cli.import_", "Read Azure (ARM, Resource Graph) or a DNS server's configuration into a topology."),
    "diff": ("arclink.cli.diff", "Show what differs between two topologies (files or live sources)."),
    "az-login": ("arclink.cli.az_login", "Log the real Azure CLI in to the emulator (its own AZURE_CONFIG_DIR)."),
    "lab": ("arclink.cli.lab", "Build the page's network for real in Linux network namespaces (root)."),
}


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit code ``code``."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def _top_help() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = [
        "usage: arclink COMMAND [options]",
        "",
        "Azure Arc Private Link for Arc-enabled Kubernetes: plan, lint, emulate, onboard, troubleshoot.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "Run 'arclink COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_top_help())
        return 0
    if argv[0] in ("-V", "--version"):
        from arclink import __version__

        print(f"arclink {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        print(f"arclink: unknown command '{name}'.{hint} Run 'arclink --help' for the list.", file=sys.stderr)
        return 2
    module_name, summary = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"arclink {name}", description=summary)
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except UserError as exc:
        print(f"arclink {name}: {exc}", file=sys.stderr)
        return exc.code
    except StackError as exc:  # the emulator would not start: the same one line, exit 2
        print(f"arclink {name}: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
