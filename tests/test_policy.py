"""Policy files: defaults, every setting, waivers, and errors that name the file, line and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from patchlevel.cli import main
from patchlevel.errors import PolicyError
from patchlevel.model import Severity, Status, Waiver
from patchlevel.policy import Policy, default_policy_text, load_policy, parse_policy

CHECKS = {"node_os_supported", "kubelet_version_supported", "fixable_vulnerabilities_patched_in_time"}


def error(text: str, known: set[str] | None = None) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "team.yaml", known or CHECKS)
    return str(caught.value)


def test_defaults_follow_pci_dss_6_3_3() -> None:
    policy = Policy()
    assert policy.patch_window_days == 30
    assert policy.sla_days[Severity.CRITICAL] == 30
    assert policy.sla_status[Severity.CRITICAL] is Status.FAIL


def test_init_text_is_a_valid_policy_equal_to_the_defaults() -> None:
    text = default_policy_text()
    assert parse_policy(text, "p.yaml") == Policy(source="p.yaml")
    for name in Policy().to_dict():
        if name != "source":
            assert f"\n{name}:" in text, f"{name} missing from the template"
    assert text.count("#") > 20  # commented


def test_empty_file_means_defaults() -> None:
    assert parse_policy("", "p.yaml") == Policy(source="p.yaml")
    assert parse_policy("# only a comment\n", "p.yaml") == Policy(source="p.yaml")


def test_every_kind_of_setting_is_read() -> None:
    policy = parse_policy(
        "version: 1\n"
        "patch_window_days: 14\n"
        "extended_support: FAIL\n"
        "sla_days:\n  critical: 7\n  high: 30\n  medium: 90\n"
        "sla_status: {critical: fail, medium: warn}\n"
        "allowed_registries: [registry.example.com, ghcr.io/acme]\n",
        "p.yaml",
    )
    assert policy.patch_window_days == 14
    assert policy.extended_support is Status.FAIL
    assert policy.sla_days == {Severity.CRITICAL: 7, Severity.HIGH: 30, Severity.MEDIUM: 90}
    assert policy.sla_status == {Severity.CRITICAL: Status.FAIL, Severity.MEDIUM: Status.WARN}
    assert policy.allowed_registries == ("registry.example.com", "ghcr.io/acme")
    assert policy.source == "p.yaml"
    assert policy.node_max_age_days == Policy().node_max_age_days  # untouched settings keep their default


def test_waivers_with_every_key() -> None:
    policy = parse_policy(
        "waivers:\n"
        "  - id: W-1\n"
        "    check: fixable_vulnerabilities_patched_in_time\n"
        "    subject: image/registry.example.com/payments@sha256:*\n"
        "    vulnerability: CVE-2024-*\n"
        "    reason: vendor fix pending\n"
        "    owner: payments-team\n"
        "    approved_by: ciso\n"
        "    expires: 2027-01-31\n"
        "  - check: node_os_supported\n"
        "    subject: 'node/*'\n"
        "    reason: r\n"
        "    owner: o\n"
        "    expires: '2026-12-31'\n",
        "p.yaml",
        CHECKS,
    )
    assert policy.waivers == (
        Waiver(
            check="fixable_vulnerabilities_patched_in_time",
            subject="image/registry.example.com/payments@sha256:*",
            reason="vendor fix pending",
            owner="payments-team",
            expires=date(2027, 1, 31),
            id="W-1",
            approved_by="ciso",
            vulnerability="CVE-2024-*",
        ),
        Waiver("node_os_supported", "node/*", "r", "o", date(2026, 12, 31)),
    )


WAIVER = "waivers:\n  - check: node_os_supported\n    subject: node/a\n    reason: r\n    owner: o\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "patch_window_dayz: 3\n",
            "team.yaml:1: patch_window_dayz: unknown setting (did you mean 'patch_window_days'?)",
        ),
        (
            "\n\npatch_window_days: soon\n",
            "team.yaml:3: patch_window_days: expected a whole number of days, got 'soon'",
        ),
        ("patch_window_days: -1\n", "team.yaml:1: patch_window_days: must not be negative, got -1"),
        (
            "patch_window_days: 36526\n",
            "team.yaml:1: patch_window_days: must be at most 36525 days (100 years), got '36526'",
        ),
        (
            "sla_days:\n  critical: 100000000000\n",
            "team.yaml:2: sla_days.critical: must be at most 36525 days (100 years), got '100000000000'",
        ),
        ("patch_window_days: true\n", "team.yaml:1: patch_window_days: expected a whole number of days, got 'true'"),
        ("extended_support: maybe\n", "team.yaml:1: extended_support: expected one of pass, warn, fail, got 'maybe'"),
        ("sla_days:\n  urgent: 3\n", "team.yaml:2: sla_days.urgent: not a severity"),
        ("sla_days:\n  high: x\n", "team.yaml:2: sla_days.high: expected a whole number of days, got 'x'"),
        ("allowed_registries: docker.io\n", "team.yaml:1: allowed_registries: expected a list, got 'docker.io'"),
        ("version: 2\n", "team.yaml:1: version: this patchlevel reads policy version 1, not '2'"),
        ("- a\n- b\n", "team.yaml:1: : expected a mapping"),
        ("a: [\n", "team.yaml:2: not valid YAML"),
        ("patch_window_days: 1\npatch_window_days: 2\n", "team.yaml:2: patch_window_days: given twice"),
        ("waivers: yes\n", "team.yaml:1: waivers: expected a list of waivers"),
        (WAIVER, "team.yaml:2: waivers[0]: missing expires"),
        (
            WAIVER + "    expires: 2027-02-30\n",
            "team.yaml:6: waivers[0].expires: expected a date YYYY-MM-DD, got '2027-02-30'",
        ),
        (WAIVER + "    expires: 31/01/2027\n", "team.yaml:6: waivers[0].expires: expected a date YYYY-MM-DD"),
        (WAIVER + "    expires: 2027-01-31 10:00:00\n", "team.yaml:6: waivers[0].expires: expected a date YYYY-MM-DD"),
        (WAIVER + "    expires: 2027-01-31\n    expiry: 2027-01-31\n", "team.yaml:7: waivers[0].expiry: unknown key"),
        (WAIVER + "    expires: 2027-01-31\n    reason2: x\n", "team.yaml:7: waivers[0].reason2: unknown key"),
        (
            WAIVER.replace("owner: o", "owner: ''") + "    expires: 2027-01-31\n",
            "team.yaml:5: waivers[0].owner: expected",
        ),
        (
            WAIVER.replace("node_os_supported", "node_os_supportd") + "    expires: 2027-01-31\n",
            "team.yaml:2: waivers[0].check: no check is called 'node_os_supportd' (did you mean 'node_os_supported'?)",
        ),
        (
            WAIVER.replace("node_os_supported", "image_age") + "    expires: 2027-01-31\n",
            "team.yaml:2: waivers[0].check: no check is called 'image_age' (it was renamed 'image_built_recently')",
        ),
        (
            "waivers:\n  - {id: A, check: node_os_supported, subject: x, reason: r, owner: o, expires: 2027-01-01}\n"
            "  - {id: A, check: node_os_supported, subject: y, reason: r, owner: o, expires: 2027-01-01}\n",
            "team.yaml: waivers: id 'A' is used by more than one waiver",
        ),
    ],
)
def test_errors_name_file_line_and_field(text: str, message: str) -> None:
    assert error(text).startswith(message)


@pytest.mark.parametrize(
    "written",
    [
        "2026W362aa",  # date.fromisoformat read this as 2026-09-01, and `policy check` passed it
        "'2026W362aa'",
        "2026-W36-2",  # an ISO week date
        "20260901",  # ISO basic format
        "'20260901'",
        "2026-02-30",  # no such day
        "2026-9-1",  # YAML's own timestamp reading takes one-digit months and days
        "' 2026-09-01'",
        "2026-09-01T00:00:00Z",
        "[2026-09-01]",
    ],
)
def test_a_waiver_expiry_is_yyyy_mm_dd_only(written: str) -> None:
    message = error(WAIVER + f"    expires: {written}\n")
    assert message.startswith("team.yaml:6: waivers[0].expires: expected a date YYYY-MM-DD, got "), message


@pytest.mark.parametrize("written", ["2026-09-01", "'2026-09-01'", '"2026-09-01"', "!!str 2026-09-01"])
def test_a_waiver_expiry_written_yyyy_mm_dd_is_read(written: str) -> None:
    (waiver,) = parse_policy(WAIVER + f"    expires: {written}\n", "team.yaml", CHECKS).waivers
    assert waiver.expires == date(2026, 9, 1)


def test_policy_check_refuses_a_week_date_expiry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reported case: ``expires: '2026W362aa'`` passed ``policy check`` and was read as 2026-09-01."""
    policy = tmp_path / "team.yaml"
    policy.write_text(WAIVER.replace("node_os_supported", "kubelet_version_supported") + "    expires: '2026W362aa'\n")
    assert main(["policy", "check", str(policy)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"patchlevel: error: {policy}:6: waivers[0].expires: expected a date YYYY-MM-DD, got '2026W362aa'"


def test_a_5000_digit_day_count_is_quoted_cut_in_one_line() -> None:
    message = error("patch_window_days: " + "9" * 5000 + "\n")
    assert message == (
        "team.yaml:1: patch_window_days: must be at most 36525 days (100 years), got '"
        + "9" * 62
        + "… (5000 characters)"
    )


def test_the_longest_day_count_is_read() -> None:
    assert parse_policy("patch_window_days: 36525\n", "team.yaml").patch_window_days == 36525


@pytest.mark.parametrize("text", ["patch_window_days: 100000000000\n", "patch_window_days: 99999999\n"])
def test_a_huge_day_count_is_a_policy_error_not_a_crash_in_plan(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``plan`` with these windows said ``internal error: OverflowError`` (a due date past year 9999)."""
    policy = tmp_path / "team.yaml"
    policy.write_text(text)
    snapshot = Path(__file__).parent / "data" / "snapshots" / "mixed-shapes-read"
    assert main(["plan", str(snapshot), "--policy", str(policy), "--as-of", "2026-09-01", "-o", "-"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"patchlevel: error: {policy}:1: patch_window_days: must be at most 36525 days"), err
    assert len(err.splitlines()) == 1


def test_load_policy_reads_a_file_and_names_missing_ones(tmp_path: Path) -> None:
    path = tmp_path / "patchlevel.yaml"
    path.write_text("patch_window_days: 10\n")
    assert load_policy(path).patch_window_days == 10
    assert load_policy(path).source == str(path)
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy(tmp_path / "nope.yaml")
    (tmp_path / "latin1.yaml").write_bytes(b"owner: \xe9\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(tmp_path / "latin1.yaml")


def test_cli_policy_init_never_overwrites_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "patchlevel.yaml"
    assert main(["policy", "init", "-o", str(target)]) == 0
    assert parse_policy(target.read_text(), str(target)) == Policy(source=str(target))
    target.write_text("patch_window_days: 7\n")
    assert main(["policy", "init", "-o", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_text() == "patch_window_days: 7\n"
    assert main(["policy", "init", "-o", str(target), "--force"]) == 0
    assert target.read_text() == default_policy_text()
    assert main(["policy", "init", "-o", "-"]) == 0
    assert capsys.readouterr().out == default_policy_text()


def test_cli_policy_check_and_audit_report_bad_policies_as_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("waivers:\n  - check: kubelet_version_supportd\n")
    assert main(["policy", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"patchlevel: error: {bad}:2: waivers[0]: missing")
    assert "Traceback" not in err
    good = tmp_path / "good.yaml"
    good.write_text(default_policy_text())
    assert main(["policy", "check", str(good)]) == 0
    assert "valid (0 waivers)" in capsys.readouterr().out
    assert main(["audit", str(tmp_path), "--policy", str(bad)]) == 2


def test_hostile_yaml_in_a_policy_file_is_one_usage_error_naming_the_file(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("sla_days: " + "[" * 100_000 + "]" * 100_000 + "\n")
    bomb = tmp_path / "bomb.yaml"
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    bomb.write_text("\n".join(rows) + "\nsla_days: *a7\n")
    for path, problem in ((deep, "nested too deeply"), (bomb, "alias bomb")):
        with pytest.raises(PolicyError, match=problem) as raised:
            load_policy(path)
        assert str(path) in str(raised.value) and raised.value.exit_code == 2


def test_a_policy_that_is_not_a_regular_file_is_refused_without_opening_it(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "policy.fifo"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    with pytest.raises(PolicyError, match=r"cannot read policy file .*policy\.fifo: .*not a regular file"):
        load_policy(fifo)
