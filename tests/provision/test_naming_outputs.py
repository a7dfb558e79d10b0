"""Physical names and the stack-output reader."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from georesil.errors import ProvisionError
from georesil.provision import naming
from georesil.provision import outputs as keys
from georesil.provision.outputs import StackOutputs

ids = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,62}", fullmatch=True)
BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


@given(ids, ids, ids, ids)
def test_bucket_names_are_valid(topology: str, stack: str, service: str, site: str) -> None:
    """Every bucket name is 3-63 lower-case letters, digits and inner hyphens."""
    name = naming.bucket_name(topology, stack, service, site)
    assert BUCKET.match(name), name


@given(ids, ids, ids, ids)
def test_bucket_names_are_deterministic(topology: str, stack: str, service: str,
                                        site: str) -> None:
    """The same inputs always give the same name."""
    assert naming.bucket_name(topology, stack, service, site) == \
        naming.bucket_name(topology, stack, service, site)


@given(st.tuples(ids, ids), st.tuples(ids, ids))
def test_bucket_names_do_not_collide(a: tuple[str, str], b: tuple[str, str]) -> None:
    """Different (service, site) pairs give different names, even when they clean alike."""
    if a != b:
        assert naming.bucket_name("t", "s", *a) != naming.bucket_name("t", "s", *b)


def test_cleaning_alike_ids_stay_apart() -> None:
    """'a.b' and 'a-b' clean to the same text but still get different names."""
    assert naming.bucket_name("t", "s", "a.b", "x") != naming.bucket_name("t", "s", "a-b", "x")


@given(ids, ids, ids)
def test_role_names_fit(topology: str, stack: str, service: str) -> None:
    """IAM role names stay within 64 characters."""
    assert len(naming.role_name(topology, stack, service)) <= 64


def test_table_and_parameter_names() -> None:
    """Table names use DynamoDB's alphabet; parameter names are SSM paths."""
    assert re.match(r"^[a-zA-Z0-9_.-]{3,255}$", naming.control_table_name("taiwan", "lab"))
    assert re.match(r"^[a-zA-Z0-9_.-]{3,255}$",
                    naming.database_table_name("taiwan", "lab", "metadata-db", "hsinchu-hq"))
    assert naming.parameter_name("taiwan", "lab", "dns") == \
        "/georesil/taiwan/lab/services/dns/serving-site"


def test_stack_outputs_typed_views() -> None:
    """StackOutputs reads buckets, tables and parameters under the shared keys."""
    raw = {keys.bucket_name_key("s", "a"): "bn", keys.bucket_arn_key("s", "a"): "arn:b",
           keys.bucket_sites_key("s"): ["a"],
           keys.TABLE_NAME: "ctl", keys.parameter_name_key("s"): "/p"}
    out = StackOutputs(raw)
    assert out.bucket("s", "a").arn == "arn:b"
    assert list(out.buckets("s")) == ["a"]
    assert out.table_name == "ctl"
    assert out.parameter_name("s") == "/p"


def test_buckets_of_dotted_service_ids_stay_apart() -> None:
    """Service 'a' does not pick up the buckets of service 'a.b'."""
    raw = {keys.bucket_sites_key("a"): ["x"], keys.bucket_sites_key("a.b"): ["y"]}
    for svc, site in (("a", "x"), ("a.b", "y")):
        raw[keys.bucket_name_key(svc, site)] = f"{svc}-{site}"
        raw[keys.bucket_arn_key(svc, site)] = f"arn:aws:s3:::{svc}-{site}"
    out = StackOutputs(raw)
    assert list(out.buckets("a")) == ["x"]
    assert list(out.buckets("a.b")) == ["y"]


def test_stack_outputs_unwrap_automation_values() -> None:
    """Values shaped like pulumi.automation OutputValue are unwrapped."""
    class OutputValue:
        def __init__(self, value: str) -> None:
            self.value = value

    assert StackOutputs({keys.TABLE_NAME: OutputValue("ctl")}).table_name == "ctl"


def test_missing_output_names_key_and_neighbours() -> None:
    """Reading an absent key raises ProvisionError naming it and similar keys."""
    out = StackOutputs({keys.bucket_name_key("s", "a"): "bn"})
    with pytest.raises(ProvisionError, match=r"'bucket\.s\.b\.name' does not exist.*"
                                             r"'bucket\.s\.a\.name'") as info:
        out.bucket("s", "b")
    assert info.value.key == "bucket.s.b.name"


def test_bucket_names_differ_per_account() -> None:
    """Two accounts deploying the same topology as the same stack get different, valid bucket
    names; one account always gets the same name."""
    import re

    first = naming.bucket_name("taiwan", "dev", "model-store", "taipei-neihu", "111111111111")
    second = naming.bucket_name("taiwan", "dev", "model-store", "taipei-neihu", "222222222222")
    again = naming.bucket_name("taiwan", "dev", "model-store", "taipei-neihu", "111111111111")
    assert first != second and first == again
    for name in (first, second):
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name)
        assert name.startswith("dev-model-store-taipei-neihu-")
