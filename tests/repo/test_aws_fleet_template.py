"""deploy/aws/template.yaml, zero-touch part: claim policy, fleet thing policy, template."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.repo.cfn import IotPolicy, load_template, render

PARAMS = {
    "ContractId": "C1001",
    "ThingName": "home-0042",
    "TopicPrefix": "inx",
    "ProvisioningTemplateName": "inspextor-fleet",
    "FleetBridgePolicy": "fleet-bridge-policy",
}
CSR = "$aws/certificates/create-from-csr/json"
PROVISION = "$aws/provisioning-templates/inspextor-fleet/provision/json"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _policy(template: dict[str, Any], name: str, **kwargs: Any) -> IotPolicy:
    document = render(template["Resources"][name]["Properties"], PARAMS)
    return IotPolicy(document["PolicyDocument"]["Statement"], **kwargs)


def test_the_claim_may_use_the_provisioning_topics_only(template: dict[str, Any]) -> None:
    claim = _policy(template, "ClaimPolicy")
    assert claim.can_connect("claim-home-0042")
    for request in (CSR, PROVISION):
        assert claim.can_publish(request)
        for answer in ("accepted", "rejected"):
            assert claim.can_subscribe(f"{request}/{answer}")
            assert claim.can_receive(f"{request}/{answer}")
    for topic in (
        "inx/activate",
        "inx/ping",
        "inx/C1001/send_sync_query_high",
        "inx/instance/return",
        "$aws/provisioning-templates/other-template/provision/json",
        "$aws/certificates/create/json",  # keys made in the cloud: not offered
    ):
        assert not claim.can_publish(topic), topic
    assert not claim.can_subscribe("inx/C1001/action")
    assert not claim.can_receive("inx/C1001/action")


def test_a_provisioned_thing_keeps_to_its_contract_and_may_rotate(
    template: dict[str, Any],
) -> None:
    thing = _policy(
        template,
        "FleetBridgePolicy",
        thing_name="C1001-home-1",
        attributes={"contract_id": "C1001"},
    )
    assert thing.can_connect("C1001-home-1")
    assert thing.can_connect("C1001-home-1-trial")  # the rotation's trial connection
    assert not thing.can_connect("C2002-home-9")
    assert thing.can_publish("inx/C1001/send_sync_query_high")
    assert thing.can_publish("inx/C1001/certificate/retire")
    assert thing.can_publish(CSR)
    assert thing.can_publish(PROVISION)
    assert not thing.can_publish("inx/C2002/send_sync_query_high")
    assert not thing.can_publish("inx/C2002/certificate/retire")
    assert thing.can_subscribe("inx/C1001/action")
    assert not thing.can_subscribe("inx/C2002/action")
    assert not thing.can_subscribe("inx/C1001/#")


def test_the_template_registers_contract_and_instance_with_the_fleet_policy(
    template: dict[str, Any],
) -> None:
    props = render(template["Resources"]["ProvisioningTemplate"]["Properties"], PARAMS)
    assert props["TemplateName"] == "inspextor-fleet"
    body = json.loads(props["TemplateBody"])
    assert set(body["Parameters"]) == {"ContractId", "InstanceId", "AWS::IoT::Certificate::Id"}
    resources = body["Resources"]
    assert resources["certificate"]["Properties"]["Status"] == "ACTIVE"
    assert resources["policy"]["Properties"]["PolicyName"] == "fleet-bridge-policy"
    attrs = resources["thing"]["Properties"]["AttributePayload"]
    assert attrs == {"contract_id": {"Ref": "ContractId"}}
    conditions = {
        name: res.get("Condition")
        for name, res in template["Resources"].items()
        if name in {"ClaimPolicy", "FleetBridgePolicy", "ProvisioningRole", "ProvisioningTemplate"}
    }
    assert set(conditions.values()) == {"CreateFleet"}


def test_the_retire_rule_passes_the_reporter_to_the_function(template: dict[str, Any]) -> None:
    rule = render(template["Resources"]["RetireRule"]["Properties"], PARAMS)
    sql = rule["TopicRulePayload"]["Sql"]
    assert "principal() AS principal" in sql
    assert "FROM 'inx/+/certificate/retire'" in sql
    code = template["Resources"]["RetireFunction"]["Properties"]["Code"]["ZipFile"]
    assert 'newStatus="INACTIVE"' in code
    assert "old == new" in code  # a bridge can never retire the certificate it uses
