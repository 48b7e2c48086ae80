"""``arclink connect``: the CLI's flag validation, prompt and check texts, verbatim."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from arclink.agent import onboard
from arclink.agent.arm_client import ArmRequestError
from arclink.agent.onboard import ConnectRequest, OnboardingError
from arclink.cli.main import main

SCOPE = ("/subscriptions/8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d/resourceGroups/rg-arc-hub/providers/"
         "Microsoft.HybridCompute/privateLinkScopes/pls-arc-retail")
BASE = ["connect", "-g", "rg", "-n", "c1", "-l", "westeurope", "--site", "store-ok", "--emulator", "/nonexistent"]


def _run(capsys, *extra):
    code = main(BASE + list(extra))
    return code, capsys.readouterr().err


def test_scope_id_without_enable_conflicts(capsys):
    code, err = _run(capsys, "--private-link-scope-resource-id", SCOPE)
    assert code == 2 and onboard.CONFLICTING_FLAGS in err
    code, err = _run(capsys, "--enable-private-link", "false", "--pls-arm-id", SCOPE)
    assert code == 2 and onboard.CONFLICTING_FLAGS in err
    assert onboard.CONFLICTING_FLAGS == ("Conflicting private link parameters received. The parameter "
                                         "'--private-link-scope-resource-id' should not be set if "
                                         "'--enable-private-link' is passed as null or False.")


def test_enable_without_scope_id(capsys):
    code, err = _run(capsys, "--enable-private-link", "true")
    assert code == 2
    assert ("The parameter '--private-link-scope-resource-id' was not provided. It is mandatory to pass this "
            "parameter for enabling private link on the connected cluster resource.") in err


def test_no_tty_and_no_yes():
    # a real child process with no terminal on stdin
    proc = subprocess.run([sys.executable, "-m", "arclink", *BASE, "--enable-private-link", "true", "--pls-arm-id", SCOPE],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Unable to prompt for confirmation as no tty available. Use --yes." in proc.stderr
    assert "Traceback" not in proc.stderr


def test_prompt_text_and_cancel():
    asked = []
    req = ConnectRequest("rg", "c1", "westeurope", enable_private_link=True, private_link_scope_resource_id=SCOPE)
    with pytest.raises(OnboardingError, match="Operation cancelled"):
        onboard.confirm(req, ask=lambda m: asked.append(m) or False)
    assert asked == ["The Cluster Connect and Custom Location features are not supported by Private Link at this time. "
                     "Enabling Private Link will disable these features. Are you sure you want to continue?"]
    onboard.confirm(req, ask=lambda m: True)


def test_yes_skips_the_prompt_and_oid_is_ignored_with_a_warning():
    warnings = []
    req = ConnectRequest("rg", "c1", "westeurope", enable_private_link=True, private_link_scope_resource_id=SCOPE,
                         yes=True, custom_locations_oid="00000000-0000-0000-0000-000000000001")
    onboard.confirm(req, ask=lambda m: pytest.fail("asked despite --yes"), warn=warnings.append)
    assert warnings == [onboard.CUSTOM_LOCATIONS_OID_IGNORED]


def test_past_validation_a_missing_emulator_is_one_sentence(capsys):
    code, err = _run(capsys, "--enable-private-link", "true", "--pls-arm-id", SCOPE, "--yes")
    assert code == 2 and "does not exist. Start the emulator" in err and "Traceback" not in err


def test_bad_three_state_value(capsys):
    with pytest.raises(SystemExit) as exc:
        main(BASE + ["--enable-private-link", "maybe"])
    assert exc.value.code == 2
    assert "Allowed values: false, true." in capsys.readouterr().err


class FakeArm:
    """Answers the GETs the checks make; anything else is a test failure."""

    subscription = "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d"

    def __init__(self, docs: dict):
        self.docs = docs

    def get(self, path, api_version):
        for suffix, doc in self.docs.items():
            if path.lower().endswith(suffix.lower()):
                if isinstance(doc, Exception):
                    raise doc
                return doc
        raise ArmRequestError(404, "ResourceNotFound", f"{path} not found")


def _provider(state="Registered", locations=("West Europe", "East US")):
    return {"namespace": "Microsoft.Kubernetes", "registrationState": state,
            "resourceTypes": [{"resourceType": "connectedClusters", "locations": list(locations)}]}


def test_provider_not_registered():
    arm = FakeArm({"/providers/Microsoft.Kubernetes": _provider("NotRegistered")})
    with pytest.raises(OnboardingError) as exc:
        onboard.check_providers(arm)
    assert str(exc.value) == ("Microsoft.Kubernetes provider is not registered. Please register it using "
                              "'az provider register -n 'Microsoft.Kubernetes' before running the connect command.")


def test_configuration_provider_only_warns():
    warnings = []
    arm = FakeArm({"/providers/Microsoft.Kubernetes": _provider(),
                   "/providers/Microsoft.KubernetesConfiguration": {"registrationState": "NotRegistered"}})
    onboard.check_providers(arm, warn=warnings.append)
    assert len(warnings) == 1 and "Microsoft.KubernetesConfiguration" in warnings[0]


def test_location_not_offered():
    with pytest.raises(OnboardingError) as exc:
        onboard.check_location(_provider(), "mars")
    assert str(exc.value) == ("Connected cluster resource creation is supported only in the following locations: "
                              "['westeurope', 'eastus']")
    assert exc.value.recommendation == "Use the --location flag to specify one of these locations."
    onboard.check_location(_provider(), "West Europe")


def test_scope_missing_and_region_mismatch():
    req = ConnectRequest("rg", "c1", "eastus", enable_private_link=True, private_link_scope_resource_id=SCOPE)
    with pytest.raises(OnboardingError) as exc:
        onboard.check_scope(FakeArm({}), req)
    assert str(exc.value) == (f"The private link scope resource '{SCOPE}' does not exist. Please ensure that you pass "
                              "a valid ARM Resource Id.")
    arm = FakeArm({"privateLinkScopes/pls-arc-retail": {"location": "westeurope"}})
    with pytest.raises(OnboardingError) as exc:
        onboard.check_scope(arm, req)
    assert str(exc.value) == ("The location of the private link scope resource does not match the location of "
                              "connected cluster resource. Please ensure that both the resources are in the same "
                              "azure location.")
    req.location = "West Europe"
    onboard.check_scope(arm, req)


def test_malformed_scope_id_only_warns_like_the_cli():
    warnings = []
    req = ConnectRequest("rg", "c1", "eastus", enable_private_link=True, private_link_scope_resource_id="pls-arc")
    onboard.check_scope(FakeArm({}), req, warn=warnings.append)
    assert warnings == ["Error occured while checking the private link scope resource location: "
                        "list index out of range\n"]


def test_key_file_is_private(tmp_path):
    from arclink import pki

    p = pki.save_private_key(tmp_path / "agents" / "k.pem", pki.new_agent_key("ec"))
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600


def test_prompt_on_a_terminal_and_answer_no():
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "arclink", *BASE, "--enable-private-link", "true", "--pls-arm-id", SCOPE],
                            stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)

    def read_until(marker: bytes, timeout: float = 30.0) -> bytes:
        seen = b""
        while marker not in seen:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                break
            try:
                chunk = os.read(master, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        return seen

    try:
        assert b"Are you sure you want to continue? (y/n)" in read_until(b"(y/n)")
        os.write(master, b"n\n")
        assert b"Operation cancelled." in read_until(b"Operation cancelled.")
        assert proc.wait(30) == 2
    finally:
        proc.kill()
        os.close(master)


@pytest.mark.parametrize("content, words", [
    ("not json", "is not a readable endpoints.json"),
    ("[1, 2]", "is not an endpoints.json"),
    ('{"arm": "https://127.0.0.1:1"}', "lacks the key"),
    ('{"arm": "https://127.0.0.1:1", "ca_cert": "x", "token": "t", "subscription": "s", "dns": null, "gateway": null}',
     "runs without its dns server"),
])
def test_unusable_endpoints_file(tmp_path, capsys, content, words):
    p = tmp_path / "endpoints.json"
    p.write_text(content)
    code = main(["agent", "run", "--cluster", "c1", "--emulator", str(p)])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err


@pytest.mark.parametrize("arm, ca_cert, words", [
    ("https://example.com:1", None, "is not on loopback"),  # refused before anything is dialled
    ("https://127.0.0.1:9", "missing.pem", "cannot load the emulator's CA"),
])
def test_endpoints_with_a_bad_arm_entry(tmp_path, capsys, arm, ca_cert, words):
    import json

    from arclink import pki

    pki.ensure_ca(tmp_path)
    p = tmp_path / "endpoints.json"
    p.write_text(json.dumps({"arm": arm, "ca_cert": str(tmp_path / (ca_cert or "ca.pem")), "token": "t",
                             "subscription": "s", "tenant": "t", "dns": {"host": "127.0.0.1", "port": 9},
                             "gateway": {"host": "127.0.0.1", "port": 9}}))
    code = main(["connect", "-g", "rg", "-n", "c1", "-l", "westeurope", "--site", "s", "--yes", "--emulator", str(p)])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err, err


def test_emulator_not_running(tmp_path, capsys):
    import json

    from arclink import pki

    pki.ensure_ca(tmp_path)
    p = tmp_path / "endpoints.json"
    p.write_text(json.dumps({"arm": "https://127.0.0.1:9", "ca_cert": str(tmp_path / "ca.pem"), "token": "t",
                             "subscription": "s", "tenant": "t", "dns": {"host": "127.0.0.1", "port": 9},
                             "gateway": {"host": "127.0.0.1", "port": 9}}))
    code = main(["connect", "-g", "rg", "-n", "c1", "-l", "westeurope", "--site", "s", "--emulator", str(p)])
    err = capsys.readouterr().err
    assert code == 2 and "does not answer" in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["lint", "--emulator"], ["agent", "run", "--cluster", "c1", "--emulator"],
                                     ["doctor", "--site", "s", "--emulator"]])
def test_every_command_says_the_same_about_a_missing_endpoints_file(tmp_path, capsys, command):
    missing = tmp_path / "nowhere" / "endpoints.json"
    code = main([*command, str(missing)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"{missing} does not exist. Start the emulator with 'arclink serve --state DIR'" in err
