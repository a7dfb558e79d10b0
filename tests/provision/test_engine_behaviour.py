"""The engine itself: preview, unknown types, secrets, providers, the real-AWS guard."""

from __future__ import annotations

import pytest

from georesil.errors import ProvisionError
from georesil.provision.moto_engine import MotoEngine, provision_moto, run_program


def _lab_provider(region: str = "us-east-1", url: str | None = None):  # type: ignore[no-untyped-def]
    import pulumi
    import pulumi_aws as aws

    extra = {"endpoints": [aws.ProviderEndpointArgs(s3=url)]} if url else {}
    return aws.Provider("site-x", region=region, access_key="testing",
                        secret_key=pulumi.Output.secret("s3cr3t-value"), **extra)


def test_preview_creates_nothing(mini) -> None:  # type: ignore[no-untyped-def]
    """A preview registers every resource but creates none of them."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        result = provision_moto(mini, stack="pv", preview=True)
        assert result.preview
        assert len(result.of_type("aws:s3/bucket:Bucket")) == 3
        assert boto3.client("s3").list_buckets()["Buckets"] == []
        assert boto3.client("dynamodb", "ap-northeast-1").list_tables()["TableNames"] == []
        assert boto3.client("route53").list_hosted_zones()["HostedZones"] == []


def test_preview_needs_no_moto(mini) -> None:  # type: ignore[no-untyped-def]
    """A preview makes no AWS call, so it runs without any moto at all."""
    result = provision_moto(mini, stack="pv", preview=True)
    assert result.stack_outputs.bucket("objects", "tainan-ngcc").name.startswith("pv-objects")


def test_unknown_resource_type_is_named() -> None:
    """A resource type without a handler fails with an error naming the type."""
    import pulumi
    import pulumi_aws as aws
    from moto import mock_aws

    def program() -> None:
        provider = _lab_provider()
        aws.sns.Topic("alerts", opts=pulumi.ResourceOptions(provider=provider))

    with mock_aws(), pytest.raises(ProvisionError, match=r"'aws:sns/topic:Topic'") as info:
        run_program(MotoEngine(), program, stack="u", preview=False)
    assert info.value.type == "aws:sns/topic:Topic"
    assert info.value.resource == "alerts"


def test_resource_without_provider_is_refused() -> None:
    """A resource on the default provider is an error: every resource names its site."""
    import pulumi_aws as aws
    from moto import mock_aws

    with mock_aws(), pytest.raises(ProvisionError, match="no explicit aws.Provider"):
        run_program(MotoEngine(), lambda: aws.s3.Bucket("b", bucket="some-bucket-x1"),
                    stack="u", preview=False)


def test_secret_inputs_are_unwrapped() -> None:
    """A secret input reaches the handler as its plain value."""
    import pulumi
    import pulumi_aws as aws
    from moto import mock_aws

    def program() -> None:
        provider = _lab_provider()
        aws.ssm.Parameter("p", name="/t/secret", type="String",
                          value=pulumi.Output.secret("plain-text"),
                          opts=pulumi.ResourceOptions(provider=provider))

    with mock_aws():
        engine = MotoEngine()
        run_program(engine, program, stack="s", preview=False)
        import boto3

        value = boto3.client("ssm").get_parameter(Name="/t/secret")["Parameter"]["Value"]
    assert value == "plain-text"
    (provider,) = [r for r in engine.records if r.type == "pulumi:providers:aws"]
    assert "secretKey" not in provider.inputs


def test_refuses_real_aws_without_moto() -> None:
    """A provider without an endpoint URL is refused when in-process moto is not active."""
    import pulumi
    import pulumi_aws as aws

    def program() -> None:
        aws.s3.Bucket("b", bucket="never-created-x1",
                      opts=pulumi.ResourceOptions(provider=_lab_provider()))

    with pytest.raises(ProvisionError, match="refusing to call real AWS"):
        run_program(MotoEngine(), program, stack="g", preview=False)


def test_provider_endpoint_routes_requests() -> None:
    """A resource goes to its provider's endpoint URL (an unreachable one fails, named)."""
    import pulumi
    import pulumi_aws as aws

    def program() -> None:
        aws.s3.Bucket("b", bucket="routed-bucket-x1", opts=pulumi.ResourceOptions(
            provider=_lab_provider(url="http://127.0.0.1:9")))

    with pytest.raises(ProvisionError, match=r"127\.0\.0\.1:9") as info:
        run_program(MotoEngine(), program, stack="r", preview=False)
    assert info.value.site == "x"


def test_program_error_surfaces_as_itself(mini) -> None:  # type: ignore[no-untyped-def]
    """An InvalidInput raised by build_stack reaches the caller unchanged."""
    from georesil.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown site"):
        provision_moto(mini, {"nowhere": "http://127.0.0.1:9"}, preview=True)


def test_consecutive_runs_are_isolated(mini) -> None:  # type: ignore[no-untyped-def]
    """Two runs in a row each register their own stack's resources only."""
    first = provision_moto(mini, stack="one", preview=True)
    second = provision_moto(mini, stack="two", preview=True)
    assert len(first.resources) == len(second.resources)
    assert all("two-" in r.id for r in second.of_type("aws:s3/bucket:Bucket"))


def test_provisioned_sites() -> None:
    """The sites needing an endpoint are the replica sites of provisioned services."""
    from georesil.model import topology_from_dict
    from georesil.provision.stack import provisioned_sites
    from tests.provision.conftest import mini_dict

    data = mini_dict()
    data["sites"].append({"id": "tamsui-cls", "region": "north",
                          "location": {"lat": 25.17, "lon": 121.44}})
    data["services"][1]["replicas"] = data["services"][1]["replicas"][:1]  # catalog: taoyuan
    data["services"][0]["replicas"] = data["services"][0]["replicas"][:2]  # no taoyuan
    data["services"][0]["dns_name"] = None
    assert provisioned_sites(topology_from_dict(data)) == [
        "taipei-neihu", "taoyuan-dc", "tainan-ngcc", "control"]
    data["services"][1]["kind"] = "compute"
    assert provisioned_sites(topology_from_dict(data)) == ["taipei-neihu", "tainan-ngcc",
                                                           "control"]


def test_handler_failure_names_the_resource() -> None:
    """Any error inside a handler becomes a ProvisionError naming the type and resource."""
    import pulumi
    import pulumi_aws as aws
    from moto import mock_aws

    def program() -> None:
        aws.dynamodb.TableItem("seed", table_name="t", hash_key="pk", item="not json",
                               opts=pulumi.ResourceOptions(provider=_lab_provider()))

    with mock_aws(), pytest.raises(ProvisionError,
                                   match=r"creating DynamoDB Table Item \(t\): JSONDecode.*'seed'"):
        run_program(MotoEngine(), program, stack="h", preview=False)
