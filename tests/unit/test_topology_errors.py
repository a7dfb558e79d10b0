"""Malformed topologies: every problem is reported with its exact location and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from georesil import InvalidTopology, load_topology

BAD = Path(__file__).parent.parent / "fixtures" / "bad"

# file -> every problem line expected, as ":LINE:COL: field: message" after the file path.
EXPECTED: dict[str, list[str]] = {
    '01-unknown-link-site.yaml': [
        ":7:34: links[0].b: unknown site 'tainan-ngc'; known sites: 'tainan-ngcc', 'taipei-neihu' (did you mean 'tainan-ngcc'?)",
    ],
    '02-duplicate-site-id.yaml': [
        ":5:10: sites[1].id: duplicate id 'a'; first defined at sites[0]",
    ],
    '03-link-to-itself.yaml': [
        ":8:8: links[0].b: link joins site 'a' to itself; a link needs two different sites",
    ],
    '04-no-primary.yaml': [
        ":11:7: services[0].replicas: no replica has role 'primary'; exactly one must",
    ],
    '05-two-primaries.yaml': [
        ':12:25: services[0].replicas[1].role: a second primary (the first is replicas[0]); exactly one allowed',
    ],
    '06-replication-on-primary.yaml': [
        ':12:22: services[0].replicas[0].replication: replication is set on the primary; replication settings belong on secondaries',
    ],
    '07-dependency-cycle.yaml': [
        ':6:46: services[0].depends_on[0]: dependency cycle x -> y -> z -> x; services must depend on each other without cycles',
    ],
    '08-latitude-out-of-range.yaml': [
        ':7:12: sites[0].location.lat: input should be less than or equal to 90; got 125.0',
    ],
    '09-longitude-out-of-range.yaml': [
        ':4:55: sites[0].location.lon: input should be greater than or equal to -180; got -181',
    ],
    '10-negative-capacity.yaml': [
        ':7:26: sites[0].capacity.power_mw: input should be greater than or equal to 0; got -3',
    ],
    '11-unavailability-one.yaml': [
        ':7:21: sites[0].unavailability: input should be less than 1; got 1.0',
    ],
    '12-negative-rate.yaml': [
        ':4:42: zones[0].annual_rate: input should be greater than or equal to 0; got -0.2',
    ],
    '13-unknown-key-did-you-mean.yaml': [
        ":7:5: sites[0].backup_power: unknown key 'backup_power'; allowed keys: 'backup_power_h', 'capacity', 'endpoint', 'fragility', 'id', 'location', 'mtbf_h', 'mttr_h', 'name', 'region', 'repair_h', 'tags', 'unavailability', 'vs30_m_s', 'zones' (did you mean 'backup_power_h'?)",
    ],
    '14-unknown-zone-kind.yaml': [
        ":4:23: zones[0].kind: input should be 'power', 'seismic', 'weather', 'conduit' or 'other'; got 'earthquake'",
    ],
    '15-unknown-zone-ref.yaml': [
        ":9:13: sites[0].zones[0]: unknown zone 'taipower-nort'; known zones: 'taipower-north' (did you mean 'taipower-north'?)",
    ],
    '16-unknown-dependency.yaml': [
        ":7:48: services[1].depends_on[0]: unknown service 'dsn'; known services: 'api', 'dns' (did you mean 'dns'?)",
    ],
    '17-malformed-scenario-ref.yaml': [
        ":7:12: scenarios[0].fail[0]: malformed failure reference 'a'; allowed: site:ID, link:ID, srlg:ID, zone:ID, service:ID",
        ":7:15: scenarios[0].fail[1]: malformed failure reference 'host:a'; allowed: site:ID, link:ID, srlg:ID, zone:ID, service:ID",
        ":7:25: scenarios[0].fail[2]: malformed failure reference 'site:'; allowed: site:ID, link:ID, srlg:ID, zone:ID, service:ID",
    ],
    '18-duplicate-scenario-ref.yaml': [
        ":9:9: scenarios[0].fail[1]: duplicate failure reference 'site:a'",
    ],
    '19-unknown-srlg-in-scenario.yaml': [
        ":9:43: scenarios[0].fail[1]: unknown SRLG 'east-conduit'; known SRLGs: 'west-conduit' (did you mean 'west-conduit'?)",
    ],
    '20-missing-required.yaml': [
        ":4:5: sites[0].id: required field 'id' is missing",
    ],
    '21-wrong-version.yaml': [
        ':1:10: version: input should be 1; got 2',
    ],
    '22-bad-id.yaml': [
        ":4:10: sites[0].id: ids are 1-63 characters of lower-case letters, digits, '.', '_' and '-', starting with a letter or digit; got 'Taipei Neihu'",
    ],
    '23-yaml-syntax.yaml': [
        ":5:1: not valid YAML: expected ',' or '}', but got '<scalar>'",
    ],
    '24-duplicate-key.yaml': [
        ':6:5: not valid YAML: found duplicate key "region" with value "south" (original value: "north")',
    ],
    '25-async-without-lag.yaml': [
        ":12:9: services[0].replicas[1]: async replication needs 'lag_s' (seconds of writes at risk)",
    ],
    '26-secondary-without-mode.yaml': [
        ":12:9: services[0].replicas[1]: a secondary needs 'replication': one of 'sync', 'async', 'backup'",
    ],
    '27-unknown-client.yaml': [
        ":9:18: services[0].clients[1]: unknown site 'hsinchu'; known sites: 'a'",
    ],
    '28-two-replicas-same-site.yaml': [
        ":11:16: services[0].replicas[1].site: site 'a' already holds replica 0 of this service; one replica per site",
    ],
    '29-mtbf-without-mttr.yaml': [
        ':4:71: sites[0].mtbf_h: mtbf_h needs mttr_h (mean time to repair, hours)',
    ],
    '30-not-a-mapping.yaml': [
        ":1:1: a topology is a mapping with 'version', 'name', 'sites', ...; got a list",
    ],
    '31-wrong-type.yaml': [
        ":6:21: sites[0].location.lat: input should be a valid number, unable to parse string as a number; got 'north'",
        ":7:12: sites[0].zones: input should be a list; got 'taipower-north'",
    ],
    '32-cut-rate-without-length.json': [
        ":9:64: links[0].cut_rate_per_1000km_yr: a cut rate per 1000 km needs the link's length: give length_km, or a location for site 'b'",
    ],
    '33-endpoint-both.yaml': [
        ":7:15: sites[0].endpoint: give either 'aws_region' or 'url', not both",
    ],
    '34-several-problems.yaml': [
        ':4:44: sites[0].location.lat: input should be less than or equal to 90; got 95',
        ":5:71: sites[1].zones[0]: unknown zone 'nowhere'; known zones: (none)",
        ":7:23: links[0].b: unknown site 'c'; known sites: 'a', 'b'",
        ':9:20: services[0].rto_s: input should be greater than or equal to 0; got -5',
        ":9:52: services[0].replicas[0].site: unknown site 'd'; known sites: 'a', 'b'",
    ],
}


def test_every_fixture_has_expectations() -> None:
    """Each file under fixtures/bad is covered, and there are at least 25 of them."""
    files = sorted(p.name for p in BAD.iterdir())
    assert files == sorted(EXPECTED)
    assert len(files) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_topology_reports_exact_problems(name: str) -> None:
    """The loader reports exactly the expected problems, in file order, with positions."""
    path = BAD / name
    with pytest.raises(InvalidTopology) as info:
        load_topology(path)
    assert [str(p) for p in info.value.problems] == [f"{path}{e}" for e in EXPECTED[name]]


def test_error_message_counts_problems() -> None:
    """The exception's message starts with the file and the number of problems."""
    path = BAD / "34-several-problems.yaml"
    with pytest.raises(InvalidTopology) as info:
        load_topology(path)
    assert str(info.value).splitlines()[0] == f"{path}: 5 problems in topology"


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    """A file that does not exist is an input error naming the file."""
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InvalidTopology, match="no such file") as info:
        load_topology(missing)
    assert info.value.problems[0].path == str(missing)


def test_keys_that_look_like_pydantic_tags_are_located(tmp_path: Path) -> None:
    """An unknown key with brackets in its name is reported like any other (fuzz finding)."""
    path = tmp_path / "t.yaml"
    path.write_text("version: 1\nname: x\nsites: []\n'[': null\n")
    with pytest.raises(InvalidTopology) as info:
        load_topology(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:4:1: [: unknown key '['; allowed keys: 'control', 'description', 'links', 'name', 'readiness', "
        "'scenarios', 'seismic', 'services', 'sites', 'version', 'zones'"
    ]
